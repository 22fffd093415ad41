import { Agent as HttpsAgent } from 'node:https'
import {
  type Capabilities,
  ClosedError,
  checkWithin,
  type Delivery,
  type Destination,
  type Inbox,
  type IncomingMessage,
  type Logger,
  type OutgoingMessage,
  PublishError,
  type QueueSpec,
  type Source,
  type TopicFilter,
  type Transport,
  type TransportConsumeOptions,
  type TransportConsumer,
} from '@anymq/core/spi'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { KinesisAdmin } from './kinesis-admin.js'
import { type KinesisConfig, startAtOf } from './kinesis-config.js'
import { GroupConsumer } from './kinesis-consumer.js'
import { adapterName, isResourceMissing, wrapError } from './kinesis-errors.js'
import type { Checkpoint, Lease, LeaseStore } from './kinesis-lease.js'
import { DynamoLeaseTable } from './kinesis-lease-table.js'
import { LocalLeases } from './kinesis-local-leases.js'
import { ephemeralGroup, inboxStreamName, leaseTableName, queueGroup, streamName } from './kinesis-names.js'
import { assertRecordFits, partitionKeyOf } from './kinesis-publisher.js'
import { StreamPutQueue } from './kinesis-put-queue.js'
import { decodeRecord, encodeRecord, type RecordRouting } from './kinesis-record-format.js'
import { readsOn } from './kinesis-shard-pages.js'
import { KinesisStreams, type StreamRole } from './kinesis-streams.js'

const inboxGroup = 'inbox'
/** How long `connect` waits for Kinesis' first answer (the request's own timeout and the SDK's retries would take 90 s and more). */
const connectCheckMs = 10_000

/** PutRecords found no such stream (the publisher wraps the SDK's error: it is the cause). */
function isStreamMissing(error: unknown): boolean {
  return isResourceMissing(error) || isResourceMissing((error as Error | undefined)?.cause)
}

/**
 * A connection to Kinesis Data Streams (and DynamoDB for the lease tables). Queues and topics are
 * streams; a queue has one consumer group, each named subscription is a group of its own; a group's
 * workers share its shards through leases (see {@link GroupConsumer}).
 */
export class KinesisTransport implements Transport {
  private readonly kinesis: KinesisClient
  private readonly dynamodb: DynamoDBClient
  private readonly streams: KinesisStreams
  private readonly puts: StreamPutQueue
  private readonly consumers = new Set<GroupConsumer>()
  private closed = false
  readonly admin: KinesisAdmin

  constructor(
    private readonly config: KinesisConfig,
    readonly capabilities: Capabilities,
    private readonly logger: Logger,
  ) {
    const common = {
      region: config.region,
      endpoint: config.endpoint,
      credentials: config.credentials as never,
    }
    // The Kinesis client defaults to HTTP/2, which it needs only for SubscribeToShard (enhanced fan-out,
    // not used); HTTP/1.1 also reaches emulators on plain http:// (moto), where HTTP/2 fails.
    // A private CA or client certificate (an https:// emulator or proxy) goes to both clients' agents.
    const httpsAgent = config.tls === undefined ? undefined : new HttpsAgent({ ...config.tls, keepAlive: true })
    // Bounds, as the SQS adapter sets them: with none, a request to an endpoint that accepts and never
    // answers waited for good. No call here waits long by design (GetRecords answers at once).
    // throwOnRequestTimeout: the handler otherwise only logs a warning when requestTimeout passes.
    const handler = () =>
      new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000, throwOnRequestTimeout: true, ...(httpsAgent ? { httpsAgent } : {}) })
    this.kinesis = new KinesisClient({ ...common, requestHandler: handler() })
    this.dynamodb = new DynamoDBClient({ ...common, requestHandler: handler() })
    this.streams = new KinesisStreams(this.kinesis, config.shards)
    this.puts = new StreamPutQueue(this.kinesis)
    this.admin = new KinesisAdmin({ kinesis: this.kinesis, dynamodb: this.dynamodb, streams: this.streams, assertOpen: () => this.assertOpen() })
  }

  /**
   * Resolves once Kinesis answered (so a wrong endpoint or missing credentials fail `connect`), within
   * {@link connectCheckMs}. `signal` (the caller's connect signal) cuts the check and drops the clients'
   * sockets at once.
   */
  async open(signal?: AbortSignal): Promise<void> {
    const destroy = () => {
      this.kinesis.destroy()
      this.dynamodb.destroy()
    }
    await checkWithin({ adapter: adapterName, target: 'Kinesis', ms: connectCheckMs, signal, onAbort: destroy }, async (either) => {
      try {
        await this.kinesis.send(new ListStreamsCommand({ Limit: 1 }), { abortSignal: either })
      } catch (error) {
        destroy()
        throw wrapError(error, 'connecting to Kinesis')
      }
    })
  }

  async publish(destination: Destination, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    this.assertOpen()
    const { stream, routing, role } = this.target(destination)
    // A reply inbox is its requester's: looked up, never created (see KinesisStreams.existing).
    await this.put(stream, messages, routing, signal, role, destination.kind === 'inbox')
  }

  async consume(source: Source, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<TransportConsumer> {
    this.assertOpen()
    if (source.kind === 'queue') {
      const stream = streamName(source.queue.name)
      return this.startGroup(
        {
          stream,
          role: { kind: 'queue', name: source.queue.name },
          group: queueGroup,
          leases: this.leaseTable(stream, queueGroup),
          startFrom: 'earliest',
          startAt: startAtOf(source.queue.broker),
          filter: undefined,
        },
        options,
        deliver,
      )
    }
    const subscription = source.subscription
    const stream = streamName(subscription.topic)
    const named = subscription.name !== undefined
    const group = subscription.name ?? ephemeralGroup()
    return this.startGroup(
      {
        stream,
        role: { kind: 'topic', name: subscription.topic },
        group,
        leases: named ? this.leaseTable(stream, group) : new LocalLeases(),
        startFrom: subscription.startFrom,
        startAt: startAtOf(subscription.broker),
        filter: subscription.filter,
      },
      options,
      deliver,
    )
  }

  async openInbox(options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<Inbox> {
    this.assertOpen()
    const stream = inboxStreamName()
    const consumer = await this.startGroup(
      {
        stream,
        group: inboxGroup,
        leases: new LocalLeases(),
        startFrom: 'earliest',
        startAt: undefined,
        filter: undefined,
        cleanup: () => this.streams.delete(stream),
      },
      options,
      deliver,
    )
    return { address: stream, close: () => consumer.close() }
  }

  /** Up to `limit` records of the queue its group has not checkpointed yet, oldest first per shard. */
  async peek(queue: QueueSpec, limit: number): Promise<IncomingMessage[]> {
    this.assertOpen()
    const found: IncomingMessage[] = []
    await this.scan(queue, limit, async (_lease, records) => {
      found.push(...records.map((record) => record.message))
    })
    return found.slice(0, limit)
  }

  /**
   * Moves up to `limit` records the queue's group has not checkpointed: each is put to `to` first,
   * then the group's checkpoint moves past it (conditional on the lease's counter, so a worker reading
   * the queue meanwhile wins and the records stay: duplicates, never a loss).
   */
  async move(from: QueueSpec, to: Destination, limit: number, prepare: (message: IncomingMessage) => OutgoingMessage): Promise<number> {
    this.assertOpen()
    let moved = 0
    await this.scan(from, limit, async (lease, records, leases) => {
      const batch = records.slice(0, limit - moved)
      if (batch.length === 0) return
      await this.publish(
        to,
        batch.map((record) => prepare(record.message)),
      )
      const last = batch[batch.length - 1] as { sequenceNumber: string }
      if (await leases.advance(lease, { kind: 'after-sequence', sequenceNumber: last.sequenceNumber })) moved += batch.length
    })
    return moved
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.consumers].map((consumer) => consumer.close()))
    this.kinesis.destroy()
    this.dynamodb.destroy()
  }

  async terminate(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.consumers].map((consumer) => consumer.terminate()))
    this.kinesis.destroy()
    this.dynamodb.destroy()
  }

  private target(destination: Destination): { stream: string; routing: RecordRouting; role?: { kind: StreamRole; name: string } } {
    switch (destination.kind) {
      case 'queue':
        return { stream: streamName(destination.queue.name), routing: {}, role: { kind: 'queue', name: destination.queue.name } }
      case 'topic':
        return { stream: streamName(destination.topic), routing: {}, role: { kind: 'topic', name: destination.topic } }
      case 'subscription': {
        const { topic, name } = destination.subscription
        return { stream: streamName(topic), routing: name === undefined ? {} : { group: name }, role: { kind: 'topic', name: topic } }
      }
      case 'inbox':
        return { stream: destination.address, routing: {} }
    }
  }

  private async put(
    stream: string,
    messages: readonly OutgoingMessage[],
    routing: RecordRouting,
    signal?: AbortSignal,
    role?: { kind: StreamRole; name: string },
    inbox = false,
  ): Promise<void> {
    try {
      const records = messages.map((message) => ({
        data: encodeRecord(message, message.delayMs > 0 ? { ...routing, notBefore: Date.now() + message.delayMs } : routing),
        partitionKey: partitionKeyOf(message.key, message.id),
      }))
      // Checked here, before the put queue: a record refused there would fail every send of its round.
      for (const record of records) assertRecordFits(record)
      if (inbox) {
        if (!(await this.streams.existing(stream))) {
          throw new PublishError(`reply inbox '${stream}' no longer exists (its requester has gone)`, { adapter: adapterName, retryable: false })
        }
        signal?.throwIfAborted()
        await this.puts.put(stream, records)
        return
      }
      await this.streams.ensure(stream, role)
      signal?.throwIfAborted()
      try {
        await this.puts.put(stream, records)
      } catch (error) {
        if (!isStreamMissing(error)) throw error
        // Deleted behind this connection's back (another process's delete(), an emulator restarted
        // empty): created again and put once more, as the SQS adapter provisions a vanished queue.
        this.streams.forget(stream)
        await this.streams.ensure(stream, role)
        signal?.throwIfAborted()
        await this.puts.put(stream, records)
      }
    } catch (error) {
      // A stream found missing is looked up again next time (an inbox: found gone, never created).
      if (isStreamMissing(error)) this.streams.forget(stream)
      throw wrapError(error, `publishing to stream '${stream}'`, 'publish')
    }
  }

  private leaseTable(stream: string, group: string): LeaseStore {
    return new DynamoLeaseTable(this.dynamodb, leaseTableName(stream, group))
  }

  private async startGroup(
    settings: {
      stream: string
      role?: { kind: StreamRole; name: string }
      group: string
      leases: LeaseStore
      startFrom: 'earliest' | 'latest'
      startAt: ReturnType<typeof startAtOf>
      filter: TopicFilter | undefined
      cleanup?: () => Promise<void>
    },
    options: TransportConsumeOptions,
    deliver: (delivery: Delivery) => void,
  ): Promise<GroupConsumer> {
    const consumer = new GroupConsumer(
      {
        ...settings,
        client: this.kinesis,
        streams: this.streams,
        leaseMs: this.config.leaseMs,
        pollMs: this.config.pollMs,
        logger: this.logger,
        republish: (message, routing) => this.put(settings.stream, [message], { ...routing, notBefore: undefined }).then(() => {}),
      },
      options,
      deliver,
    )
    const close = consumer.close.bind(consumer)
    consumer.close = async () => {
      this.consumers.delete(consumer)
      await close()
    }
    this.consumers.add(consumer)
    try {
      await consumer.start()
    } catch (error) {
      this.consumers.delete(consumer)
      throw error
    }
    this.logger.debug(`[anymq] [${adapterName}] consuming stream '${settings.stream}' as group '${settings.group}'`)
    return consumer
  }

  /** Reads, shard by shard, the records of a queue its group has not checkpointed, up to `limit`. */
  private async scan(
    queue: QueueSpec,
    limit: number,
    visit: (lease: Lease, records: { message: IncomingMessage; sequenceNumber: string }[], leases: LeaseStore) => Promise<void>,
  ): Promise<void> {
    const stream = streamName(queue.name)
    try {
      if (!(await this.streams.exists(stream))) return
      const leases = this.leaseTable(stream, queueGroup)
      await leases.open()
      const shards = await this.streams.shards(stream)
      let rows = await leases.list()
      for (const shard of shards) {
        const shardId = shard.ShardId as string
        if (rows.some((row) => row.shardId === shardId)) continue
        const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((id): id is string => id !== undefined)
        await leases.create({ shardId, owner: undefined, counter: 0, checkpoint: { kind: 'trim-horizon' }, parentShardIds: parents })
      }
      rows = await leases.list()
      let seen = 0
      for (const lease of rows) {
        if (seen >= limit) break
        const records = await this.readShard(stream, lease.shardId, lease.checkpoint, limit - seen)
        seen += records.length
        await visit(lease, records, leases)
      }
    } catch (error) {
      throw wrapError(error, `reading queue '${queue.name}'`)
    }
  }

  private async readShard(stream: string, shardId: string, from: Checkpoint, limit: number): Promise<{ message: IncomingMessage; sequenceNumber: string }[]> {
    if (from.kind === 'shard-end') return []
    const start =
      from.kind === 'after-sequence'
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: from.sequenceNumber }
        : from.kind === 'at-sequence'
          ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER' as const, StartingSequenceNumber: from.sequenceNumber }
          : from.kind === 'at-timestamp'
            ? { ShardIteratorType: 'AT_TIMESTAMP' as const, Timestamp: new Date(from.timestamp) }
            : { ShardIteratorType: 'TRIM_HORIZON' as const }
    let iterator = (await this.kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ...start }))).ShardIterator
    const found: { message: IncomingMessage; sequenceNumber: string }[] = []
    const requested = 1000
    let emptyPagesInARow = 0
    while (iterator && found.length < limit) {
      const page = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: requested }))
      const records = page.Records ?? []
      for (const record of records) {
        const { message, routing } = decodeRecord(record)
        if (routing.group !== undefined && routing.group !== queueGroup) continue
        if (found.length < limit) found.push({ message, sequenceNumber: record.SequenceNumber as string })
      }
      emptyPagesInARow = records.length === 0 ? emptyPagesInARow + 1 : 0
      if (!readsOn(page, requested, emptyPagesInARow)) break
      iterator = page.NextShardIterator
    }
    return found
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`the ${adapterName} connection`, { adapter: adapterName })
  }
}
