import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis'
import { isResourceInUse, isResourceMissing } from './kinesis-errors.js'

/**
 * What a stream stands for in anymq: a queue, a topic, or both (a queue and a topic of one name share
 * their stream). Kept as stream tags (`anymq.queue`, `anymq.topic`, valued with the anymq name), the
 * only place `list()` can learn it from.
 */
export type StreamRole = 'queue' | 'topic'

export const roleTag = (role: StreamRole): string => `anymq.${role}`

/**
 * The data streams of one connection: created on first use (with the configured shard count) and
 * waited for until ACTIVE, each at most once per connection.
 */
export class KinesisStreams {
  private readonly ready = new Map<string, Promise<void>>()
  private readonly tagged = new Map<string, Promise<void>>()
  /** Streams of others (reply inboxes) seen ACTIVE by {@link existing}. */
  private readonly found = new Set<string>()

  constructor(
    private readonly client: KinesisClient,
    private readonly shardCount: number,
  ) {}

  /**
   * Resolves once the stream exists and takes records; creates it when missing. With `role`, the
   * stream is also tagged as the queue or topic `name` (once per connection).
   */
  async ensure(stream: string, role?: { kind: StreamRole; name: string }): Promise<void> {
    let ready = this.ready.get(stream)
    if (!ready) {
      ready = this.create(stream)
      ready.catch(() => this.ready.delete(stream))
      this.ready.set(stream, ready)
    }
    await ready
    if (role) await this.tag(stream, role.kind, role.name)
  }

  /**
   * Resolves `true` once a stream someone else created takes records, `false` when it does not exist
   * (or is being deleted); never creates it. For reply inboxes: an inbox is gone once its requester's
   * connection closed, and a late reply must not bring it back as a stream nobody reads or deletes.
   * A stream found is remembered (DescribeStreamSummary allows 20 calls a second per account).
   */
  async existing(stream: string): Promise<boolean> {
    if (this.found.has(stream)) return true
    for (;;) {
      let status: string | undefined
      try {
        status = (await this.client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamStatus
      } catch (error) {
        if (isResourceMissing(error)) return false
        throw error
      }
      if (status === 'DELETING') return false
      if (status === 'ACTIVE' || status === 'UPDATING') {
        this.found.add(stream)
        return true
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }

  /** Forgets what this connection knew of a stream (deleted, or found missing): the next use looks again. */
  forget(stream: string): void {
    this.ready.delete(stream)
    this.found.delete(stream)
    // A stream created again carries none of the old one's tags.
    for (const key of [...this.tagged.keys()]) if (key.startsWith(`${stream}\u0000`)) this.tagged.delete(key)
  }

  private tag(stream: string, kind: StreamRole, name: string): Promise<void> {
    const key = `${stream}\u0000${kind}`
    let tagging = this.tagged.get(key)
    if (!tagging) {
      // Without the tag (no kinesis:AddTagsToStream permission) only list() misses the stream: records flow the same.
      tagging = this.client.send(new AddTagsToStreamCommand({ StreamName: stream, Tags: { [roleTag(kind)]: name } })).then(
        () => undefined,
        () => undefined,
      )
      this.tagged.set(key, tagging)
    }
    return tagging
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
    this.forget(stream)
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
