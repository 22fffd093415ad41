import net from 'node:net'
import tls from 'node:tls'
import { ConnectionError, type Logger } from '@anymq/core/spi'
import kafkajs, { type Admin, type Consumer, type ISocketFactory, type KafkaMessage, type Producer, type TopicMessages } from 'kafkajs'
import type { KafkaSettings } from './kafka-config.js'
import {
  type DriverConsumer,
  type DriverConsumerOptions,
  type DriverOutgoingRecord,
  type DriverRecord,
  type KafkaDriver,
  leaveWithin,
  type PartitionRange,
  type TopicPartitionOffset,
  type TopicSpec,
} from './kafka-driver.js'
import { revokeBeforeRejoin } from './kafka-revoke.js'
import { receivedRecord, receiveHeader, valueBuffer } from './kafka-wire.js'
import { quietIdleRequestQueues } from './kafkajs-idle-request-queue.js'
import { type LeaderMetadata, splitByLeader } from './kafkajs-leader-batches.js'
import { stablePartitioner } from './kafkajs-partitioner.js'

const { Kafka, logLevel, CompressionTypes } = kafkajs

/** The part of kafkajs's internal Cluster used for plain offset commits and leader lookups. */
interface InternalCluster extends LeaderMetadata {
  /** Topics whose metadata the client refreshes (kafkajs never shrinks it by itself). */
  targetTopics?: Set<string>
  connect(): Promise<void>
  disconnect(): Promise<void>
  findGroupCoordinator(request: { groupId: string }): Promise<{
    offsetCommit(request: {
      groupId: string
      groupGenerationId: number
      memberId: string
      topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>
    }): Promise<unknown>
  }>
}

/**
 * The kafkajs implementation of the driver seam. One Kafka client per connection: one admin client,
 * one idempotent producer (acks=all), one kafkajs consumer per anymq consumer (a group member).
 * Every socket goes through our socket factory so that `terminate()` can drop them all at once.
 */
export class KafkajsDriver implements KafkaDriver {
  private readonly kafka: InstanceType<typeof Kafka>
  private readonly admin: Admin
  private producer: Producer | undefined
  private producerConnecting: Promise<Producer> | undefined
  /** Sends in flight per producer, and producers replaced after a failed send (see `sendOnce`). */
  private readonly producerSends = new WeakMap<Producer, number>()
  private readonly retired = new Set<Producer>()
  private internalCluster: Promise<InternalCluster | undefined> | undefined
  private producerCluster: InternalCluster | undefined
  private readonly consumers = new Set<KafkajsConsumer>()
  private readonly sockets = new Set<net.Socket>()
  private dead = false
  /** While closing, client noise (connection errors of members leaving) is logged at debug level. */
  quiet = false

  constructor(
    private readonly settings: KafkaSettings,
    private readonly logger: Logger,
  ) {
    quietIdleRequestQueues()
    const socketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
      if (this.dead) {
        const socket = new net.Socket()
        setImmediate(() => socket.destroy(new Error('connection terminated')))
        return socket
      }
      const socket = ssl
        ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
        : net.connect({ host, port }, onConnect)
      socket.setKeepAlive(true, 60_000)
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
      return socket
    }
    this.kafka = new Kafka({
      clientId: settings.clientId,
      brokers: settings.brokers,
      ssl: settings.ssl,
      sasl: settings.sasl as never,
      connectionTimeout: settings.connectionTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      socketFactory,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => {
        const { message, ...extra } = entry.log
        const text = `kafkajs ${entry.namespace}: ${message}`
        const context = pickContext(extra)
        // kafkajs logs every failure it retries or hands to us as ERROR; we wrap and report those
        // ourselves, so its own lines are warnings at most, and debug while closing or terminating.
        // Protocol-level errors ("Response CreateTopics … already exists", "group is rebalancing") are
        // retried by kafkajs or handed to us, so they are debug lines.
        if (this.quiet || this.dead || entry.namespace === 'Connection' || entry.namespace === 'BrokerPool' || isBenign(message))
          this.logger.debug(text, context)
        else if (entry.level === logLevel.ERROR) this.logger.warn(text, context)
        else this.logger.debug(text, context)
      },
    })
    this.admin = this.kafka.admin({ retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 } })
  }

  async connect(): Promise<void> {
    await this.admin.connect()
    // kafkajs' connect resolves against a peer that never answered (its handshake timed out): only an
    // answer says a broker is there.
    try {
      await this.admin.describeCluster()
    } catch (error) {
      throw new ConnectionError(
        `connecting to ${this.settings.brokers.join(',')}: no answer from a Kafka broker (${(error as Error).message}); the port accepts connections but does not answer as one (another service, or TLS and plain text mixed up: see ?ssl=)`,
        { adapter: 'kafka', cause: error, retryable: true },
      )
    }
  }

  async send(batches: ReadonlyArray<{ topic: string; records: DriverOutgoingRecord[] }>, options: { forget?: readonly string[] } = {}): Promise<void> {
    try {
      await this.sendOnce(batches)
    } catch (error) {
      // kafkajs refreshes metadata for every topic it ever produced to and fails all sends once one of
      // them was deleted (kafkajs issue #1622): forget the deleted ones and try once more.
      if (!(await this.forgetDeletedTopics())) throw error
      await this.sendOnce(batches)
    } finally {
      // Reply inboxes come and go: never keep them in the metadata the producer refreshes.
      for (const topic of options.forget ?? []) this.producerCluster?.targetTopics?.delete(topic)
    }
  }

  /**
   * One `sendBatch` per leader on the current producer; a producer whose send failed is replaced.
   *
   * Why: a failed produce request rolls kafkajs' sequence numbers for its partitions back, though the
   * broker may have written it (a leader killed after appending, a connection cut before the answer).
   * The next request to such a partition, carrying other records, then reuses those numbers; the
   * broker takes it for a duplicate of the written batch, acknowledges it and drops its records:
   * confirmed messages lost (`pnpm chaos --ci kafka --driver kafkajs` lost 4 of 4,000 that way).
   * A new producer gets a new producer id from the broker, and its numbers start afresh. The Java
   * client bumps the epoch instead, and @platformatic/kafka renews the id as here.
   */
  private async sendOnce(batches: ReadonlyArray<{ topic: string; records: DriverOutgoingRecord[] }>): Promise<void> {
    const producer = await this.connectedProducer()
    this.producerSends.set(producer, (this.producerSends.get(producer) ?? 0) + 1)
    try {
      await this.sendWith(producer, batches)
    } catch (error) {
      this.retire(producer)
      throw error
    } finally {
      const left = (this.producerSends.get(producer) ?? 1) - 1
      this.producerSends.set(producer, left)
      // Disconnected once no send of its own is in flight (another call may still be on it).
      if (left === 0 && this.retired.delete(producer)) void producer.disconnect().catch(() => {})
    }
  }

  private retire(producer: Producer): void {
    if (this.producer !== producer) return
    this.producer = undefined
    this.producerConnecting = undefined
    this.retired.add(producer)
  }

  private async forgetDeletedTopics(): Promise<boolean> {
    const tracked = this.producerCluster?.targetTopics
    if (!tracked || tracked.size === 0) return false
    const existing = new Set(await this.admin.listTopics())
    let forgot = false
    for (const topic of [...tracked]) {
      if (!existing.has(topic)) {
        tracked.delete(topic)
        forgot = true
      }
    }
    return forgot
  }

  private async sendWith(producer: Producer, batches: ReadonlyArray<{ topic: string; records: DriverOutgoingRecord[] }>): Promise<void> {
    const topicMessages: TopicMessages[] = batches.map(({ topic, records }) => ({
      topic,
      messages: records.map((record) => ({
        key: record.key ?? null,
        value: valueBuffer(record.value),
        headers: record.headers,
        timestamp: String(record.timestamp),
      })),
    }))
    const cluster = this.producerCluster
    const groups = cluster ? await splitByLeader(cluster, topicMessages) : [topicMessages]
    const results = await Promise.allSettled(
      groups.map((group) =>
        producer.sendBatch({
          acks: -1,
          // kafkajs ships only gzip (the config refuses the others for this driver).
          compression: this.settings.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
          topicMessages: group,
        }),
      ),
    )
    const failed = results.find((result) => result.status === 'rejected')
    if (failed) throw failed.reason
  }

  private connectedProducer(): Promise<Producer> {
    if (!this.producerConnecting) {
      const producer = this.withClusterCapture(
        (cluster) => {
          this.producerCluster = cluster
        },
        () =>
          this.kafka.producer({
            idempotent: true,
            maxInFlightRequests: 1,
            allowAutoTopicCreation: false,
            createPartitioner: stablePartitioner,
            // Bounded, so a send fails with a retryable error during a long outage instead of hanging.
            retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
          }),
      )
      this.producerConnecting = producer.connect().then(
        () => {
          this.producer = producer
          return producer
        },
        (error: unknown) => {
          this.producerConnecting = undefined
          throw error
        },
      )
    }
    return this.producerConnecting
  }

  async createTopics(topics: readonly TopicSpec[]): Promise<void> {
    const created = await this.admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({ topic: topic.name, numPartitions: topic.partitions, replicationFactor: topic.replicationFactor })),
    })
    // Some existed already, perhaps still being created by another client: wait for their leaders.
    if (!created) await this.waitForLeaders(topics.map((topic) => topic.name))
  }

  private async waitForLeaders(topics: string[]): Promise<void> {
    const deadline = Date.now() + 10_000
    for (;;) {
      try {
        const metadata = await this.admin.fetchTopicMetadata({ topics })
        if (metadata.topics.every((topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0))) return
      } catch (error) {
        if (Date.now() > deadline) throw error
      }
      if (Date.now() > deadline) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    await this.admin.deleteTopics({ topics: [...topics], timeout: 5_000 })
  }

  async topicRanges(topic: string): Promise<PartitionRange[]> {
    const offsets = await this.fetchTopicOffsets(topic)
    return offsets.map((entry) => ({ partition: entry.partition, low: Number(entry.low), high: Number(entry.high) })).sort((a, b) => a.partition - b.partition)
  }

  private offsetsQueue: Promise<unknown> = Promise.resolve()

  /**
   * kafkajs's `fetchTopicOffsets` fails now and then with a TypeError of its own (`high.pop()` or
   * `low.pop()` of an empty list; kafkajs#461) when two of them run at once or the topic's metadata is
   * still settling, so calls go one at a time and that TypeError is tried again.
   */
  private fetchTopicOffsets(topic: string): ReturnType<Admin['fetchTopicOffsets']> {
    const attempt = async (): ReturnType<Admin['fetchTopicOffsets']> => {
      for (let tries = 1; ; tries++) {
        try {
          return await this.admin.fetchTopicOffsets(topic)
        } catch (error) {
          if (!(error instanceof TypeError) || tries >= 5) throw error
          await new Promise((resolve) => setTimeout(resolve, 100 * tries))
        }
      }
    }
    const result = this.offsetsQueue.then(attempt, attempt)
    this.offsetsQueue = result.catch(() => {})
    return result
  }

  async groupOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    const result = new Map<number, number>()
    const [entry] = await this.admin.fetchOffsets({ groupId, topics: [topic] })
    for (const partition of entry?.partitions ?? []) {
      const offset = Number(partition.offset)
      if (offset >= 0) result.set(partition.partition, offset)
    }
    return result
  }

  async setGroupOffsets(groupId: string, topic: string, offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void> {
    const partitions = offsets.map(({ partition, offset }) => ({ partition, offset: String(offset) }))
    const cluster = await this.offsetCluster()
    if (!cluster) {
      // kafkajs's own way: joins the group with a throwaway member and waits out a fetch (about 5 s).
      await this.admin.setOffsets({ groupId, topic, partitions })
      return
    }
    // As the Java AdminClient does: an OffsetCommit outside any generation, which the broker accepts
    // only while the group has no member.
    const coordinator = await cluster.findGroupCoordinator({ groupId })
    await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: '', topics: [{ topic, partitions }] })
  }

  /** The kafkajs factory of client clusters (a private symbol of the Kafka object), if this kafkajs has one. */
  private clusterFactory(): ((options: Record<string, unknown>) => InternalCluster) | undefined {
    const create = Object.getOwnPropertySymbols(this.kafka).find((symbol) => symbol.description === 'private:Kafka:createCluster')
    const factory = create === undefined ? undefined : (this.kafka as unknown as Record<symbol, unknown>)[create]
    return typeof factory === 'function' ? (factory as (options: Record<string, unknown>) => InternalCluster) : undefined
  }

  /** Runs `create` (a kafkajs client constructor) and hands over the cluster it made. */
  private withClusterCapture<T>(capture: (cluster: InternalCluster) => void, create: () => T): T {
    const symbol = Object.getOwnPropertySymbols(this.kafka).find((candidate) => candidate.description === 'private:Kafka:createCluster')
    const factory = this.clusterFactory()
    if (symbol === undefined || factory === undefined) return create()
    const target = this.kafka as unknown as Record<symbol, unknown>
    target[symbol] = (options: Record<string, unknown>) => {
      const cluster = factory(options)
      capture(cluster)
      return cluster
    }
    try {
      return create()
    } finally {
      target[symbol] = factory
    }
  }

  /**
   * kafkajs has no public call for a plain OffsetCommit; its client-side cluster (behind a private
   * symbol) has one. Confined here; without it, setGroupOffsets falls back to admin.setOffsets.
   */
  private offsetCluster(): Promise<InternalCluster | undefined> {
    this.internalCluster ??= (async () => {
      const factory = this.clusterFactory()
      if (factory === undefined) return undefined
      const cluster = factory({ allowAutoTopicCreation: false })
      await cluster.connect()
      return cluster
    })().catch((error: unknown) => {
      this.internalCluster = undefined
      throw error
    })
    return this.internalCluster
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    await this.admin.deleteGroups([...groupIds])
  }

  listTopics(): Promise<string[]> {
    return this.admin.listTopics()
  }

  async listGroups(): Promise<string[]> {
    return (await this.admin.listGroups()).groups.map((group) => group.groupId)
  }

  async groupMembers(groupId: string): Promise<number> {
    const { groups } = await this.admin.describeGroups([groupId])
    return groups.find((group) => group.groupId === groupId)?.members.length ?? 0
  }

  async deleteRecords(topic: string, offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void> {
    await this.admin.deleteTopicRecords({ topic, partitions: offsets.map(({ partition, offset }) => ({ partition, offset: String(offset) })) })
  }

  consumer(options: DriverConsumerOptions): DriverConsumer {
    let cluster: InternalCluster | undefined
    const consumer = this.withClusterCapture(
      (made) => {
        cluster = made
      },
      () => new KafkajsConsumer(this.kafka, this.settings, this.logger, options, () => this.consumers.delete(consumer)),
    )
    // Without the cluster (another kafkajs), a rebalance commits on the consumer's timer only.
    if (cluster) consumer.revokeBeforeRejoins(cluster)
    this.consumers.add(consumer)
    return consumer
  }

  async close(): Promise<void> {
    this.quiet = true
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.stop()))
    const producer = this.producer ?? (await this.producerConnecting?.catch(() => undefined))
    const cluster = await this.internalCluster?.catch(() => undefined)
    const retired = [...this.retired].map((old) => old.disconnect())
    this.retired.clear()
    await Promise.allSettled([producer?.disconnect(), ...retired, this.admin.disconnect(), cluster?.disconnect()])
  }

  async terminate(): Promise<void> {
    this.dead = true
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
    // Stop the clients' loops; with every socket refused they cannot leave the group or commit.
    const stopping = [...this.consumers].map((consumer) => consumer.stop())
    const cluster = this.internalCluster?.then((internal) => internal?.disconnect()).catch(() => {})
    stopping.push(
      this.producer?.disconnect() ?? Promise.resolve(),
      ...[...this.retired].map((old) => old.disconnect()),
      this.admin.disconnect(),
      cluster ?? Promise.resolve(),
    )
    await Promise.race([Promise.allSettled(stopping), new Promise((resolve) => setTimeout(resolve, 2_000).unref())])
  }
}

class KafkajsConsumer implements DriverConsumer {
  private readonly consumer: Consumer
  private stopping: Promise<void> | undefined
  private joined: (() => void) | undefined
  private failedToStart: ((error: Error) => void) | undefined
  /** Set by REBALANCING: the next coordinator lookup is the rejoin's, which revokes first. */
  private rejoinPending = false

  constructor(
    kafka: InstanceType<typeof Kafka>,
    private readonly settings: KafkaSettings,
    private readonly logger: Logger,
    private readonly options: DriverConsumerOptions,
    private readonly forget: () => void,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      rebalanceTimeout: settings.rebalanceTimeoutMs,
      maxWaitTimeInMs: settings.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      retry: {
        retries: 10,
        initialRetryTime: 100,
        maxRetryTime: 2_000,
        // Restart after any failure (broker restart, lost coordinator) until stopped.
        restartOnFailure: async () => true,
      },
    })
    const { GROUP_JOIN, COMMIT_OFFSETS, CRASH } = this.consumer.events
    this.consumer.on(GROUP_JOIN, (event) => {
      const assignment = new Map<string, number[]>()
      for (const [topic, partitions] of Object.entries(event.payload.memberAssignment)) assignment.set(topic, partitions)
      options.onAssigned(assignment)
      this.joined?.()
    })
    this.consumer.on(COMMIT_OFFSETS, (event) => {
      const offsets: TopicPartitionOffset[] = []
      for (const topic of event.payload.topics) {
        for (const partition of topic.partitions) offsets.push({ topic: topic.topic, partition: Number(partition.partition), offset: Number(partition.offset) })
      }
      options.onCommitted(offsets)
    })
    this.consumer.on(CRASH, (event) => {
      if (this.stopping) return
      const error = event.payload.error
      this.failedToStart?.(error)
      options.onCrash(error, event.payload.restart)
      if (!event.payload.restart) setTimeout(() => void this.run().catch(() => {}), 1_000).unref()
    })
  }

  /**
   * kafkajs has no hook before a rejoin (its own autocommit commits there, inside its runner): the
   * runner emits REBALANCING and then joins, and a join starts by looking up the group's coordinator on
   * the consumer's own cluster. That lookup is wrapped: the first one after REBALANCING runs the revoke
   * step (`onRevoking`) before the JoinGroup is sent. The consumer's commits look up no coordinator
   * (they use the one of the last join), so they pass meanwhile.
   */
  revokeBeforeRejoins(cluster: InternalCluster): void {
    const onRevoking = this.options.onRevoking
    if (!onRevoking) return
    const find = cluster.findGroupCoordinator.bind(cluster)
    cluster.findGroupCoordinator = async (request) => {
      if (this.rejoinPending) {
        this.rejoinPending = false
        if (!this.stopping) await revokeBeforeRejoin(onRevoking, this.settings.rebalanceTimeoutMs, this.logger, this.options.groupId)
      }
      return find(request)
    }
    this.consumer.on(this.consumer.events.REBALANCING, () => {
      this.rejoinPending = true
    })
  }

  async start(): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => {
      this.joined = resolve
      this.failedToStart = reject
    })
    try {
      await this.consumer.connect()
      await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning })
      await this.run()
      await joined
    } catch (error) {
      await this.stop()
      throw error
    } finally {
      this.failedToStart = undefined
    }
  }

  private async run(): Promise<void> {
    if (this.stopping) return
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => {
        const { batch } = payload
        await this.options.onBatch({
          topic: batch.topic,
          partition: batch.partition,
          records: batch.messages.map((message) => toRecord(batch.topic, batch.partition, message)),
          resolve: (offset) => payload.resolveOffset(String(offset)),
          heartbeat: () => payload.heartbeat(),
          isRunning: () => payload.isRunning() && !payload.isStale() && !this.stopping,
          pause: () => payload.pause(),
        })
      },
    })
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (this.stopping || offsets.length === 0) return
    await this.consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: String(offset) })))
  }

  pauseAll(): void {
    try {
      this.consumer.pause(this.options.topics.map((topic) => ({ topic })))
    } catch {
      // Not running (restarting after a crash): nothing is fetched anyway.
    }
  }

  stop(): Promise<void> {
    this.stopping ??= leaveWithin(this.consumer.disconnect(), this.options.groupId, this.logger).finally(this.forget)
    return this.stopping
  }
}

function toRecord(topic: string, partition: number, message: KafkaMessage): DriverRecord {
  const value = message.value ?? Buffer.alloc(0)
  const record = receivedRecord(
    topic,
    partition,
    Number(message.offset),
    message.key === null || message.key === undefined ? undefined : message.key.toString('utf8'),
    // The client's Buffer as it is (a Uint8Array): a second view per record cost ~0.3 µs of a 100 B consume.
    value,
    Number(message.timestamp),
    message,
  )
  const headers = message.headers
  if (headers === undefined) return record
  for (const [name, header] of Object.entries(headers)) {
    // kafkajs' record decoder looks names up on a plain object, so a header named `constructor` or
    // `toString` comes as [<the inherited function>, <its value>]: keep only real header values.
    const first = (Array.isArray(header) ? header : [header]).find((entry) => typeof entry === 'string' || Buffer.isBuffer(entry))
    if (first === undefined) continue
    receiveHeader(record, name, typeof first === 'string' ? first : first.toString('utf8'))
  }
  return record
}

// Rebalances, and crashes/reconnects that the consumer reports itself through onError.
const benign = [
  /The group is rebalancing/,
  /Limiting retries for the idempotent producer/,
  /switched default partitioner/,
  /^Crash: /,
  /Restarting the consumer/,
  /Failed to connect to seed broker/,
]

function isBenign(message: string): boolean {
  return benign.some((pattern) => pattern.test(message))
}

function pickContext(extra: Record<string, unknown>): Record<string, unknown> | undefined {
  const context: Record<string, unknown> = {}
  for (const name of ['broker', 'groupId', 'topic', 'error', 'retryCount', 'retryTime']) {
    if (extra[name] !== undefined) context[name] = extra[name]
  }
  return Object.keys(context).length > 0 ? context : undefined
}
