import type { ConnectionStateTracker, Logger } from '@anymq/core/spi'
import { Admin, compatibilityPartitioner, Producer } from '@platformatic/kafka'
import { BrokerLiveness } from './kafka-broker-liveness.js'
import type { KafkaSettings } from './kafka-config.js'
import type { DriverConsumer, DriverConsumerOptions, DriverOutgoingRecord, KafkaDriver, PartitionRange, TopicSpec } from './kafka-driver.js'
import { clientOptions } from './kafka-platformatic-client-options.js'
import { PlatformaticConsumer } from './kafka-platformatic-consumer.js'
import { unkeyedPartitionHashOfBytes } from './kafka-unkeyed-partition.js'
import { kafkaHeaders, valueBuffer } from './kafka-wire.js'

/** Earliest / latest in a ListOffsets request. */
const earliest = -2n
const latest = -1n

/**
 * The @platformatic/kafka implementation of the driver seam: one admin client, one idempotent
 * producer (acks=all, Java-compatible murmur2 partitioner), one consumer per anymq consumer. The
 * library's consumer is a stream of records, which each `PlatformaticConsumer` hands over per partition.
 */
export class PlatformaticDriver implements KafkaDriver {
  private readonly admin: Admin
  private producer: Producer | undefined
  private readonly consumers = new Set<PlatformaticConsumer>()

  constructor(
    private readonly settings: KafkaSettings,
    private readonly logger: Logger,
  ) {
    this.admin = new Admin(clientOptions(settings, 5))
  }

  async connect(): Promise<void> {
    await this.admin.metadata({ topics: [] })
  }

  watchConnections(connectionState: ConnectionStateTracker): void {
    this.liveness ??= new BrokerLiveness(() => this.admin.metadata({ topics: [], forceUpdate: true }), connectionState)
    this.watch(this.admin)
    if (this.producer) this.watch(this.producer)
    // A broker that restarts between two operations closes no connection anyone is waiting on, and the
    // client does not always report the drop: a periodic forced metadata request sees it.
    this.liveness.start()
  }

  private liveness: BrokerLiveness | undefined

  /** What the admin client and the producer tell of their dials goes to the liveness check. */
  private watch(client: Admin | Producer): void {
    const liveness = this.liveness
    if (!liveness) return
    client.on('client:broker:failed', ({ broker }: { broker: { host: string; port: number } }) => liveness.dialFailed(`${broker.host}:${broker.port}`))
    client.on('client:broker:connect', () => liveness.dialled())
    client.on('client:broker:disconnect', () => liveness.dropped())
  }

  private connectedProducer(): Producer {
    if (this.producer) return this.producer
    this.producer = new Producer({
      ...clientOptions(this.settings, 8),
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
      // Java's murmur2 (positive hash modulo partitions): a key lands where the Java client puts it.
      partitioner: compatibilityPartitioner,
      ...(this.settings.compression === 'none' ? {} : { compression: this.settings.compression }),
    })
    // Once, when made: watched on every send, it gained three listeners per send.
    this.watch(this.producer)
    return this.producer
  }

  async send(batches: ReadonlyArray<{ topic: string; records: DriverOutgoingRecord[] }>): Promise<void> {
    const messages = []
    // Records of one send mostly share their timestamp: one BigInt for a run of them, not one each.
    let timestamp = Number.NaN
    let timestampBig = 0n
    for (const { topic, records } of batches) {
      for (const record of records) {
        if (record.timestamp !== timestamp) {
          timestamp = record.timestamp
          timestampBig = BigInt(timestamp)
        }
        const id = record.headers[kafkaHeaders.id]
        // Encoded once, for the header and for the partition of an unkeyed record.
        const idBytes = id === undefined ? undefined : Buffer.from(id)
        // One literal, one shape: a spread of the partition made a temporary object per record.
        messages.push({
          topic,
          // Unkeyed: spread by message id (the library takes it modulo the partition count). The
          // library's Java-compatible partitioner alone would put every unkeyed record on partition 0;
          // undefined lets it place a keyed record by its key.
          partition: record.key !== undefined || idBytes === undefined ? undefined : unkeyedPartitionHashOfBytes(idBytes),
          key: record.key === undefined ? undefined : Buffer.from(record.key),
          value: valueBuffer(record.value),
          headers: encodeHeaders(record.headers, idBytes),
          timestamp: timestampBig,
        })
      }
    }
    await this.connectedProducer().send({ messages })
  }

  async createTopics(topics: readonly TopicSpec[]): Promise<void> {
    const missing = new Set(topics.map((topic) => topic.name))
    for (const name of await this.admin.listTopics()) missing.delete(name)
    const create = topics.filter((topic) => missing.has(topic.name))
    if (create.length > 0) {
      try {
        await this.admin.createTopics({
          topics: create.map((topic) => ({ topic: topic.name, partitions: topic.partitions, replicas: topic.replicationFactor })),
        })
      } catch (error) {
        // Created meanwhile by another client: fine, wait for its leaders below.
        if (!hasApiId(error, 'TOPIC_ALREADY_EXISTS')) throw error
      }
    }
    await this.waitForLeaders(topics.map((topic) => topic.name))
  }

  private async waitForLeaders(topics: string[]): Promise<void> {
    // 30 s, not 10: a topic made just after a broker restart on a loaded machine was still unknown to
    // the metadata after 10 s (the conformance restart case failed so, at load 12), and the first send
    // to a queue waits here rather than fail.
    const deadline = Date.now() + 30_000
    for (;;) {
      try {
        const metadata = await this.admin.metadata({ topics, forceUpdate: true })
        const ready = topics.every((name) => {
          const topic = metadata.topics.get(name)
          return topic !== undefined && topic.partitionsCount > 0 && topic.partitions.every((partition) => partition.leader >= 0)
        })
        if (ready) {
          // A leader in the metadata is not yet a leader that serves: in KRaft the broker takes the
          // partition on when it applies the metadata record, and a loaded CI machine's first send
          // got NOT_LEADER_OR_FOLLOWER for longer than the producer's retries (1.6 s). ListOffsets is
          // answered by the leader alone, so its success says a send will be too.
          await this.admin.listOffsets({
            topics: topics.map((name) => ({
              name,
              partitions: Array.from({ length: metadata.topics.get(name)?.partitionsCount ?? 0 }, (_, partitionIndex) => ({
                partitionIndex,
                timestamp: latest,
              })),
            })),
          })
          return
        }
      } catch (error) {
        if (Date.now() > deadline) throw error
      }
      if (Date.now() > deadline) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    await this.admin.deleteTopics({ topics: [...topics] })
  }

  async topicRanges(topic: string): Promise<PartitionRange[]> {
    const metadata = await this.admin.metadata({ topics: [topic], forceUpdate: true })
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0
    const partitions = Array.from({ length: count }, (_, index) => index)
    const ask = (timestamp: bigint) =>
      this.admin.listOffsets({ topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }] })
    const [low, high] = await Promise.all([ask(earliest), ask(latest)])
    const lows = new Map((low[0]?.partitions ?? []).map((entry) => [entry.partitionIndex, Number(entry.offset)]))
    return (high[0]?.partitions ?? [])
      .map((entry) => ({ partition: entry.partitionIndex, low: lows.get(entry.partitionIndex) ?? 0, high: Number(entry.offset) }))
      .sort((a, b) => a.partition - b.partition)
  }

  async groupOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    const metadata = await this.admin.metadata({ topics: [topic] })
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0
    const [group] = await this.admin.listConsumerGroupOffsets({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes: Array.from({ length: count }, (_, index) => index) }] }],
    })
    const result = new Map<number, number>()
    for (const entry of group?.topics ?? []) {
      if (entry.name !== topic) continue
      for (const partition of entry.partitions) if (partition.committedOffset >= 0n) result.set(partition.partitionIndex, Number(partition.committedOffset))
    }
    return result
  }

  async setGroupOffsets(groupId: string, topic: string, offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void> {
    await this.admin.alterConsumerGroupOffsets({
      groupId,
      topics: [{ name: topic, partitionOffsets: offsets.map(({ partition, offset }) => ({ partition, offset: BigInt(offset) })) }],
    })
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    await this.admin.deleteGroups({ groups: [...groupIds] })
  }

  listTopics(): Promise<string[]> {
    return this.admin.listTopics({ includeInternals: true })
  }

  async listGroups(): Promise<string[]> {
    return [...(await this.admin.listGroups()).keys()]
  }

  async groupMembers(groupId: string): Promise<number> {
    const groups = await this.admin.describeGroups({ groups: [groupId] })
    return groups.get(groupId)?.members.size ?? 0
  }

  async deleteRecords(topic: string, offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void> {
    await this.admin.deleteRecords({ topics: [{ name: topic, partitions: offsets.map(({ partition, offset }) => ({ partition, offset: BigInt(offset) })) }] })
  }

  consumer(options: DriverConsumerOptions): DriverConsumer {
    const consumer = new PlatformaticConsumer(this.settings, this.logger, options, () => this.consumers.delete(consumer))
    this.consumers.add(consumer)
    return consumer
  }

  async close(): Promise<void> {
    this.liveness?.stop()
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.stop()))
    await Promise.allSettled([this.producer?.close(), this.admin.close()])
  }

  async terminate(): Promise<void> {
    this.liveness?.stop()
    // No leave-group, no commit: the consumers' streams and connections are dropped as they are.
    const stopping = [...this.consumers].map((consumer) => consumer.stop(true))
    stopping.push(this.producer?.close(true) ?? Promise.resolve(), this.admin.close())
    await Promise.race([Promise.allSettled(stopping), new Promise((resolve) => setTimeout(resolve, 2_000).unref())])
  }
}

/**
 * Bytes of header names, and of the content type, made once: every record carries the same few, and
 * `Buffer.from` (FastBuffer) was the top frame of a sendBatch CPU profile. The library copies them
 * into the record batch and never writes to them.
 */
const commonHeaderBytes = new Map<string, Buffer>()
const commonHeaderBytesLimit = 512

function commonBytes(text: string): Buffer {
  let bytes = commonHeaderBytes.get(text)
  if (bytes === undefined) {
    bytes = Buffer.from(text)
    if (commonHeaderBytes.size < commonHeaderBytesLimit) commonHeaderBytes.set(text, bytes)
  }
  return bytes
}

/** `idBytes`: the `x-anymq-id` value, already encoded by the caller. */
function encodeHeaders(headers: Record<string, string>, idBytes: Buffer | undefined): Map<Buffer, Buffer> {
  const result = new Map<Buffer, Buffer>()
  for (const name in headers) {
    const value = headers[name] as string
    let bytes: Buffer
    if (name === kafkaHeaders.id && idBytes !== undefined) bytes = idBytes
    else if (name === kafkaHeaders.contentType) bytes = commonBytes(value)
    else bytes = Buffer.from(value)
    result.set(commonBytes(name), bytes)
  }
  return result
}

/** Whether a Kafka protocol error `id` is anywhere inside (causes and aggregated errors, any depth). */
function hasApiId(error: unknown, id: string, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 6) return false
  const current = error as { apiId?: string; cause?: unknown; errors?: unknown[] }
  if (current.apiId === id) return true
  if (Array.isArray(current.errors) && current.errors.some((inner) => hasApiId(inner, id, depth + 1))) return true
  return hasApiId(current.cause, id, depth + 1)
}
