import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis'
import { isResourceInUse, isResourceMissing } from './kinesis-errors.js'

/**
 * The data streams of one connection: created on first use (with the configured shard count) and
 * waited for until ACTIVE, each at most once per connection.
 */
export class KinesisStreams {
  private readonly ready = new Map<string, Promise<void>>()

  constructor(
    private readonly client: KinesisClient,
    private readonly shardCount: number,
  ) {}

  /** Resolves once the stream exists and takes records; creates it when missing. */
  ensure(stream: string): Promise<void> {
    let ready = this.ready.get(stream)
    if (!ready) {
      ready = this.create(stream)
      ready.catch(() => this.ready.delete(stream))
      this.ready.set(stream, ready)
    }
    return ready
  }

  /** Whether the stream exists, without creating it. */
  async exists(stream: string): Promise<boolean> {
    try {
      await this.client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))
      return true
    } catch (error) {
      if (isResourceMissing(error)) return false
      throw error
    }
  }

  /** Every shard of the stream, open and closed, with its parents. */
  async shards(stream: string): Promise<Shard[]> {
    const shards: Shard[] = []
    let token: string | undefined
    do {
      const page = await this.client.send(token ? new ListShardsCommand({ NextToken: token }) : new ListShardsCommand({ StreamName: stream }))
      shards.push(...(page.Shards ?? []))
      token = page.NextToken
    } while (token)
    return shards
  }

  async delete(stream: string): Promise<void> {
    this.ready.delete(stream)
    try {
      await this.client.send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true }))
    } catch (error) {
      if (!isResourceMissing(error)) throw error
    }
  }

  private async create(stream: string): Promise<void> {
    try {
      await this.client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: this.shardCount }))
    } catch (error) {
      if (!isResourceInUse(error)) throw error
    }
    // AWS takes seconds to make a stream ACTIVE; moto does it at once.
    for (;;) {
      const summary = await this.client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))
      const status = summary.StreamDescriptionSummary?.StreamStatus
      if (status === 'ACTIVE' || status === 'UPDATING') return
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
}
