import { type AdminTarget, type BrokerStats, type ListedDestination, type TransportAdmin, UnsupportedFeatureError } from '@anymq/core/spi'
import { type DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import { type KinesisClient, ListStreamsCommand, ListTagsForStreamCommand } from '@aws-sdk/client-kinesis'
import { adapterName, isResourceMissing, wrapError } from './kinesis-errors.js'
import { DynamoLeaseTable } from './kinesis-lease-table.js'
import { leaseTableName, queueGroup, streamName } from './kinesis-names.js'
import { type KinesisStreams, roleTag } from './kinesis-streams.js'

/** What the admin calls borrow from the transport. */
export interface KinesisAdminContext {
  kinesis: KinesisClient
  dynamodb: DynamoDBClient
  streams: KinesisStreams
  assertOpen(): void
}

const leaseTablePrefix = 'anymq-leases.'
/** A lease table name too long for DynamoDB is cut to its limit and hashed (kinesis-names). */
const hashedTableLength = 255

/**
 * Delete and list on Kinesis Data Streams and the groups' DynamoDB lease tables. A stream keeps every
 * record for its retention whatever is read, so there is nothing to purge nor to take out by id, and
 * counting what a group has not read means reading all of it (GetRecords, 5 calls per shard and second
 * on AWS, shared with the consumers): stats, purge and dead letters by id are not served.
 */
export class KinesisAdmin implements TransportAdmin {
  constructor(private readonly context: KinesisAdminContext) {}

  async stats(): Promise<BrokerStats> {
    throw new UnsupportedFeatureError(
      adapterName,
      'stats()',
      "Kinesis counts no unread records: watch the stream's GetRecords.IteratorAgeMilliseconds in CloudWatch",
    )
  }

  async purge(): Promise<void> {
    throw new UnsupportedFeatureError(adapterName, 'purge()', 'records leave a stream only when its retention period passes; delete the stream instead')
  }

  async takeById(): Promise<boolean> {
    throw new UnsupportedFeatureError(
      adapterName,
      'dead-letter operations on one message',
      'records cannot be removed from a stream one by one: use deadLetters().peek() and redrive()',
    )
  }

  async remove(target: AdminTarget): Promise<void> {
    this.context.assertOpen()
    try {
      if (target.kind === 'queue') {
        const stream = streamName(target.queue.name)
        await this.dropTable(leaseTableName(stream, queueGroup))
        await this.context.streams.delete(stream)
      } else if (target.kind === 'subscription') {
        const { topic, name } = target.subscription
        // An unnamed subscription keeps its leases in memory: nothing on the broker to delete.
        if (name !== undefined) await this.dropTable(leaseTableName(streamName(topic), name))
      } else {
        const stream = streamName(target.topic)
        const groups = groupsByStream(await this.tables(), await this.streamNames()).get(stream) ?? []
        for (const group of groups) await this.dropTable(leaseTableName(stream, group))
        await this.context.streams.delete(stream)
      }
    } catch (error) {
      throw wrapError(error, `deleting ${describeTarget(target)}`)
    }
  }

  async list(prefix: string): Promise<ListedDestination[]> {
    this.context.assertOpen()
    try {
      const streams = await this.streamNames()
      const listed: ListedDestination[] = []
      const topicStreams = new Map<string, string>()
      for (const stream of streams) {
        // A name that fits is the stream's name; a longer one was cut and hashed, keeping its start.
        if (!stream.startsWith(prefix.slice(0, 100))) continue
        const tags = await this.tagsOf(stream)
        const queue = tags[roleTag('queue')]
        const topic = tags[roleTag('topic')]
        if (queue?.startsWith(prefix)) listed.push({ kind: 'queue', name: queue })
        if (topic?.startsWith(prefix)) {
          listed.push({ kind: 'topic', name: topic })
          topicStreams.set(stream, topic)
        }
      }
      if (topicStreams.size > 0) {
        const groups = groupsByStream(await this.tables(), streams)
        for (const [stream, topic] of topicStreams) {
          for (const group of groups.get(stream) ?? []) if (group !== queueGroup) listed.push({ kind: 'subscription', name: group, topic })
        }
      }
      return listed
    } catch (error) {
      throw wrapError(error, `listing streams starting with '${prefix}'`)
    }
  }

  private async dropTable(table: string): Promise<void> {
    await new DynamoLeaseTable(this.context.dynamodb, table).drop()
  }

  private async tagsOf(stream: string): Promise<Record<string, string>> {
    try {
      const result = await this.context.kinesis.send(new ListTagsForStreamCommand({ StreamName: stream }))
      return Object.fromEntries((result.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']))
    } catch (error) {
      if (isResourceMissing(error)) return {}
      throw error
    }
  }

  /** Every stream that is not being deleted. */
  private async streamNames(): Promise<string[]> {
    const names: string[] = []
    let start: string | undefined
    for (;;) {
      const page = await this.context.kinesis.send(new ListStreamsCommand({ Limit: 100, ExclusiveStartStreamName: start }))
      const deleting = new Set((page.StreamSummaries ?? []).filter((summary) => summary.StreamStatus === 'DELETING').map((summary) => summary.StreamName))
      const batch = page.StreamNames ?? []
      names.push(...batch.filter((name) => !deleting.has(name)))
      if (!page.HasMoreStreams || batch.length === 0) return names
      start = batch[batch.length - 1]
    }
  }

  /** Every lease table anymq made (DynamoDB tables named `anymq-leases.…`). */
  private async tables(): Promise<string[]> {
    const tables: string[] = []
    let start: string | undefined
    do {
      const page = await this.context.dynamodb.send(new ListTablesCommand({ ExclusiveStartTableName: start }))
      tables.push(...(page.TableNames ?? []).filter((table) => table.startsWith(leaseTablePrefix)))
      start = page.LastEvaluatedTableName
    } while (start)
    return tables
  }
}

/**
 * The groups of each stream, from the lease tables' names `anymq-leases.<stream>.<group>`. Stream and
 * group names may both contain `.`, so a table belongs to the longest existing stream its name starts
 * with. Tables whose names were too long and got hashed are not readable back and are left out.
 */
function groupsByStream(tables: readonly string[], streams: readonly string[]): Map<string, string[]> {
  const byLength = [...streams].sort((a, b) => b.length - a.length)
  const groups = new Map<string, string[]>()
  for (const table of tables) {
    if (table.length === hashedTableLength && /-[0-9a-f]{10}$/.test(table)) continue
    const rest = table.slice(leaseTablePrefix.length)
    const stream = byLength.find((name) => rest.startsWith(`${name}.`) && rest.length > name.length + 1)
    if (stream === undefined) continue
    groups.set(stream, [...(groups.get(stream) ?? []), rest.slice(stream.length + 1)])
  }
  return groups
}

function describeTarget(target: AdminTarget): string {
  if (target.kind === 'topic') return `topic '${target.topic}'`
  if (target.kind === 'queue') return `queue '${target.queue.name}'`
  return `subscription '${target.subscription.name}' of topic '${target.subscription.topic}'`
}
