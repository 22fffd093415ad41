import { randomUUID } from 'node:crypto'
import {
  AbortedError,
  AnymqError,
  type Capabilities,
  ClosedError,
  ConfigError,
  ConnectionStateTracker,
  type Delivery,
  type Destination,
  type Inbox,
  type IncomingMessage,
  type Logger,
  type OutgoingMessage,
  type QueueSpec,
  type Source,
  type Transport,
  type TransportConsumeOptions,
  type TransportConsumer,
} from '@anymq/core/spi'
import { KafkaAdmin } from './kafka-admin.js'
import { type KafkaSettings, type KafkaTopicOptions, resolveTopicOptions } from './kafka-config.js'
import { type ConsumerContext, type ConsumerPlan, KafkaConsumer } from './kafka-consumer.js'
import type { DriverOutgoingRecord, DriverRecord, KafkaDriver, PartitionRange } from './kafka-driver.js'
import { retryTransient, wrapError } from './kafka-errors.js'
import { assertTopicName } from './kafka-names.js'
import { KafkaPublisher, type TopicRecords } from './kafka-publisher.js'
import { type RedeliveryOwner, RedeliveryOwners } from './kafka-redelivery-owners.js'
import { fromRecord, naming, toRecord } from './kafka-wire.js'

const adapter = 'kafka'
/** How long peek and move wait for the partitions of a dead-letter topic before answering with what they read. */
const backlogReadTimeoutMs = 15_000

/** A queue's main and redelivery topic names, and the queue as the owner of that redelivery topic. */
interface QueueTopics {
  topics: readonly [string, string]
  owner: RedeliveryOwner
}

interface BacklogRange {
  partition: number
  from: number
  to: number
}

/** One connection to a Kafka cluster: see the package README for how anymq concepts map onto Kafka. */
export class KafkaTransport implements Transport {
  private readonly publisher: KafkaPublisher
  private readonly topics = new Map<string, Promise<void>>()
  /** Topics whose creation (or check that they exist) succeeded: a send to them awaits nothing first. */
  private readonly readyTopics = new Set<string>()
  /** A queue's main and redelivery topic names, made once per queue rather than on every send. */
  private readonly queueTopicNames = new Map<string, QueueTopics>()
  /** Which queue or subscription each redelivery topic of this connection belongs to: two never share one. */
  private readonly owners: RedeliveryOwners
  /** A queue's resolved `broker` topic options, per options object: checked once, not on every send. */
  private readonly resolvedTopicOptions = new WeakMap<object, KafkaTopicOptions>()
  private readonly consumers = new Set<KafkaConsumer>()
  private readonly context: ConsumerContext
  private closing: Promise<void> | undefined
  readonly admin: KafkaAdmin

  constructor(
    private readonly driver: KafkaDriver,
    private readonly settings: KafkaSettings,
    private readonly logger: Logger,
    readonly capabilities: Capabilities,
    private readonly connectionState = new ConnectionStateTracker(undefined),
  ) {
    this.publisher = new KafkaPublisher(driver)
    this.owners = new RedeliveryOwners(driver, logger)
    this.admin = new KafkaAdmin({
      driver,
      owners: this.owners,
      assertOpen: () => this.assertOpen(),
      forgetTopics: (topics) => {
        for (const topic of topics) {
          this.topics.delete(topic)
          this.readyTopics.delete(topic)
        }
      },
    })
    this.context = {
      driver,
      logger,
      connectionState,
      republish: async (topic, message, dueAt) => {
        this.assertOpen()
        await this.ensureTopics([topic])
        await this.publisher.publish([{ topic, records: [toRecord(message, this.settings.contentTypeHeader, dueAt)] }])
      },
    }
  }

  async publish(destination: Destination, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    this.assertOpen()
    if (signal?.aborted) throw new AbortedError('publish', { adapter })
    // One list per topic: no wrapper object per record.
    let batches: TopicRecords[]
    let topicOptions: KafkaTopicOptions | undefined
    // The topics the records go to, made first unless known (an inbox is made by its requester).
    let topics: readonly string[] | undefined
    // The queue or subscription whose redelivery topic is written, until it is known to be its alone.
    let claiming: Promise<void> | undefined
    const contentTypeHeader = this.settings.contentTypeHeader
    switch (destination.kind) {
      case 'queue': {
        const queue = destination.queue
        topicOptions = this.queueTopicOptions(queue)
        const queueTopics = this.queueTopics(queue.name)
        claiming = this.owners.claim(queueTopics.owner)
        topics = queueTopics.topics
        const [main, retry] = queueTopics.topics
        const records: DriverOutgoingRecord[] = []
        let delayed: DriverOutgoingRecord[] | undefined
        let now = 0
        for (const message of messages) {
          // A delayed send waits in the queue group's redelivery topic, like a retry.
          if (message.delayMs > 0) {
            if (delayed === undefined) {
              delayed = []
              now = Date.now()
            }
            delayed.push(toRecord(message, contentTypeHeader, now + message.delayMs))
          } else records.push(toRecord(message, contentTypeHeader))
        }
        batches = [{ topic: main, records }]
        if (delayed !== undefined) batches.push({ topic: retry, records: delayed })
        break
      }
      case 'topic':
        assertTopicName(destination.topic, 'topic')
        topics = [destination.topic]
        batches = [{ topic: destination.topic, records: messages.map((message) => toRecord(message, contentTypeHeader)) }]
        break
      case 'subscription': {
        const { topic, name } = destination.subscription
        if (name === undefined) throw new ConfigError('an ephemeral subscription cannot be published to directly', { adapter })
        assertTopicName(topic, 'topic')
        claiming = this.owners.claim({ kind: 'subscription', topic, subscription: name })
        // Straight into one subscription: its group's redelivery topic, due now; the other groups never read it.
        const retryTopic = naming.subscriptionRetryTopic(topic, name)
        topics = [retryTopic]
        const now = Date.now()
        batches = [{ topic: retryTopic, records: messages.map((message) => toRecord(message, contentTypeHeader, now + message.delayMs)) }]
        break
      }
      case 'inbox':
        batches = [{ topic: destination.address, records: messages.map((message) => toRecord(message, contentTypeHeader)) }]
        break
    }
    // Known owner and topics: no promise to await, so a lone send's produce request is written in this same call.
    if (claiming !== undefined) await claiming
    const creating = topics === undefined ? undefined : this.ensureTopics(topics, topicOptions)
    if (creating !== undefined) await creating
    try {
      await this.publisher.publish(batches, { forget: destination.kind === 'inbox' })
    } catch (error) {
      this.connectionState.failed(error, AnymqError.isInstance(error) && error.isRetryable)
      throw error
    }
    this.connectionState.working()
  }

  async consume(source: Source, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<TransportConsumer> {
    this.assertOpen()
    const plan = await this.planFor(source)
    const consumer = await this.startConsumer(plan, options, deliver)
    return {
      stop: () => consumer.stop(),
      close: async () => {
        await consumer.close()
        this.consumers.delete(consumer)
      },
    }
  }

  /** Joins the group; a member that failed on a just-created topic is replaced by a fresh one. */
  private async startConsumer(plan: ConsumerPlan, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<KafkaConsumer> {
    try {
      return await retryTransient(async () => {
        this.assertOpen()
        const consumer = new KafkaConsumer(this.context, plan, options, deliver)
        this.consumers.add(consumer)
        try {
          await consumer.start()
          return consumer
        } catch (error) {
          this.consumers.delete(consumer)
          throw error
        }
      })
    } catch (error) {
      await plan.cleanup?.().catch(() => {})
      throw wrapError(error, `joining consumer group '${plan.groupId}'`)
    }
  }

  private async planFor(source: Source): Promise<ConsumerPlan> {
    if (source.kind === 'queue') {
      const name = source.queue.name
      const { topics, owner } = this.queueTopics(name)
      await this.owners.claim(owner)
      const retryTopic = topics[1]
      await this.ensureTopics(topics, this.topicOptions(source.queue.broker, `queue('${name}')`))
      // A new queue group starts at the earliest offset: nothing sent before the first consumer is missed.
      return { groupId: naming.queueGroup(name), mainTopic: name, retryTopic, fromBeginning: true, filter: undefined, commits: true }
    }
    const { topic, name, filter, startFrom } = source.subscription
    assertTopicName(topic, 'topic')
    const topicOptions = this.topicOptions(source.subscription.broker, `topic('${topic}').subscribe`)
    if (name === undefined) {
      await this.ensureTopics([topic], topicOptions)
      const groupId = naming.ephemeralGroup(topic, randomUUID())
      try {
        await this.pinToEnd(groupId, topic)
      } catch (error) {
        // Offsets may have been committed before the failure: remove the half-made group.
        await this.driver.deleteGroups([groupId]).catch(() => {})
        throw error
      }
      return {
        groupId,
        mainTopic: topic,
        retryTopic: undefined,
        fromBeginning: false,
        filter,
        commits: false,
        cleanup: () => this.driver.deleteGroups([groupId]),
      }
    }
    await this.owners.claim({ kind: 'subscription', topic, subscription: name })
    const groupId = naming.subscriptionGroup(topic, name)
    const retryTopic = naming.subscriptionRetryTopic(topic, name)
    await this.ensureTopics([topic, retryTopic], topicOptions)
    // A new named subscription receives what is published from its creation on, also while no
    // consumer is attached: its offsets are pinned to the end once, when the group has none.
    if (startFrom === 'latest') await this.pinToEnd(groupId, topic)
    return { groupId, mainTopic: topic, retryTopic, fromBeginning: true, filter, commits: true }
  }

  /** Commits the current end of every partition the group has no offset for yet. */
  private async pinToEnd(groupId: string, topic: string): Promise<void> {
    try {
      const [committed, ranges] = await retryTransient(() => Promise.all([this.driver.groupOffsets(groupId, topic), this.driver.topicRanges(topic)]))
      const missing = ranges.filter((range) => !committed.has(range.partition))
      if (missing.length === 0) return
      try {
        await retryTransient(() =>
          this.driver.setGroupOffsets(
            groupId,
            topic,
            missing.map((range) => ({ partition: range.partition, offset: range.high })),
          ),
        )
      } catch (error) {
        // A member of the group joined meanwhile (it pinned them, or the group reads from the earliest).
        this.logger.debug(`pinning offsets of group '${groupId}' on '${topic}': ${String(error)}`)
      }
    } catch (error) {
      throw wrapError(error, `positioning consumer group '${groupId}' on topic '${topic}'`)
    }
  }

  async openInbox(options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<Inbox> {
    this.assertOpen()
    const unique = randomUUID()
    const topic = naming.inboxTopic(unique)
    const groupId = naming.inboxGroup(unique)
    try {
      await this.createTopics([{ name: topic, partitions: 1 }])
    } catch (error) {
      // A creation that timed out may still have made the topic: never leave a half-made inbox behind.
      await this.driver.deleteTopics([topic]).catch(() => {})
      throw error
    }
    // A topic of its own with a group of one member: a reply can only ever reach this requester.
    const plan: ConsumerPlan = {
      groupId,
      mainTopic: topic,
      retryTopic: undefined,
      fromBeginning: true,
      filter: undefined,
      commits: false,
      cleanup: async () => {
        await this.driver.deleteTopics([topic])
        await this.driver.deleteGroups([groupId])
      },
    }
    const consumer = await this.startConsumer(plan, options, deliver)
    return {
      address: topic,
      close: async () => {
        await consumer.close()
        this.consumers.delete(consumer)
      },
    }
  }

  async peek(queue: QueueSpec, limit: number): Promise<IncomingMessage[]> {
    this.assertOpen()
    const topic = queue.name
    await this.owners.claim(this.queueTopics(topic).owner)
    const backlog = await this.backlog(topic, naming.queueGroup(topic))
    if (backlog.length === 0 || limit <= 0) return []
    // Read without committing: a throwaway group positioned where the queue's group stands.
    const groupId = naming.peekGroup(randomUUID())
    try {
      await retryTransient(() =>
        this.driver.setGroupOffsets(
          groupId,
          topic,
          backlog.map((range) => ({ partition: range.partition, offset: range.from })),
        ),
      )
      const records: DriverRecord[] = []
      await this.readBacklog(groupId, topic, backlog, async (batch) => {
        records.push(...batch.slice(0, limit - records.length))
        return records.length >= limit
      })
      return records
        .sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset)
        .slice(0, limit)
        .map((record) => fromRecord(record))
    } catch (error) {
      throw wrapError(error, `peeking at '${topic}'`)
    } finally {
      await this.driver.deleteGroups([groupId]).catch(() => {})
    }
  }

  async move(from: QueueSpec, to: Destination, limit: number, prepare: (message: IncomingMessage) => OutgoingMessage): Promise<number> {
    this.assertOpen()
    const topic = from.name
    await this.owners.claim(this.queueTopics(topic).owner)
    const groupId = naming.queueGroup(topic)
    const backlog = await this.backlog(topic, groupId)
    if (backlog.length === 0 || limit <= 0) return 0
    let moved = 0
    await this.readBacklog(groupId, topic, backlog, async (batch, commit) => {
      const taken = batch.slice(0, limit - moved)
      if (taken.length === 0) return true
      // Each record leaves the dead-letter topic (its offset is committed) only after its destination has it.
      await this.publish(
        to,
        taken.map((record) => prepare(fromRecord(record))),
      )
      const last = taken[taken.length - 1] as DriverRecord
      await commit(last.offset + 1)
      moved += taken.length
      return moved >= limit
    })
    return moved
  }

  /** Partitions of `topic` with records the group has not committed past. */
  private async backlog(topic: string, groupId: string): Promise<BacklogRange[]> {
    await this.ensureTopics([topic])
    try {
      const [ranges, committed] = await retryTransient(() => Promise.all([this.driver.topicRanges(topic), this.driver.groupOffsets(groupId, topic)]))
      return ranges
        .map((range: PartitionRange) => ({
          partition: range.partition,
          from: Math.max(committed.get(range.partition) ?? range.low, range.low),
          to: range.high,
        }))
        .filter((range) => range.from < range.to)
    } catch (error) {
      throw wrapError(error, `reading the offsets of '${topic}'`)
    }
  }

  /**
   * Reads the given ranges as a member of `groupId`, one batch per call of `handle` (records inside
   * the ranges only), until every range is read or `handle` says it has enough.
   */
  private async readBacklog(
    groupId: string,
    topic: string,
    ranges: BacklogRange[],
    handle: (records: DriverRecord[], commit: (offset: number) => Promise<void>) => Promise<boolean>,
  ): Promise<void> {
    const remaining = new Map(ranges.map((range) => [range.partition, range]))
    let finish!: (error?: unknown) => void
    const finished = new Promise<void>((resolve, reject) => {
      finish = (error) => (error === undefined ? resolve() : reject(error))
    })
    let enough = false
    const member = this.driver.consumer({
      groupId,
      topics: [topic],
      fromBeginning: true,
      onAssigned: () => {},
      onCommitted: () => {},
      onCrash: (error) => finish(error),
      onBatch: async (batch) => {
        const range = remaining.get(batch.partition)
        if (enough || !range) return
        const records = batch.records.filter((record) => record.offset >= range.from && record.offset < range.to)
        try {
          if (records.length > 0) {
            enough = await handle(records, (offset) => member.commit([{ topic, partition: batch.partition, offset }]))
            for (const record of records) batch.resolve(record.offset)
          }
          const last = batch.records[batch.records.length - 1]
          if (last && last.offset >= range.to - 1) remaining.delete(batch.partition)
          if (enough || remaining.size === 0) finish()
        } catch (error) {
          enough = true
          finish(error)
        }
      },
    })
    const timer = setTimeout(() => finish(), backlogReadTimeoutMs)
    try {
      await member.start()
      await finished
    } finally {
      clearTimeout(timer)
      await member.stop().catch(() => {})
    }
  }

  /** Creates topics on first use, once per connection. */
  /** Validated `broker` options of a queue or subscription: partitions and replication of the topics anymq creates. */
  private topicOptions(broker: Readonly<Record<string, unknown>>, where: string): KafkaTopicOptions {
    return resolveTopicOptions(broker, this.settings, where)
  }

  private queueTopicOptions(queue: { name: string; broker: Readonly<Record<string, unknown>> }): KafkaTopicOptions {
    let options = this.resolvedTopicOptions.get(queue.broker)
    if (options === undefined) {
      options = this.topicOptions(queue.broker, `queue('${queue.name}')`)
      this.resolvedTopicOptions.set(queue.broker, options)
    }
    return options
  }

  /**
   * Main topic, then redelivery topic. Made together, also by a delayed send: it is how list() tells
   * a queue from a topic (and how another connection tells a queue not consumed yet, see kafka-redelivery-owners.ts).
   */
  private queueTopics(name: string): QueueTopics {
    let topics = this.queueTopicNames.get(name)
    if (topics === undefined) {
      // Checked once per queue name, here where its topics are first named: not on every send.
      assertTopicName(name, 'queue')
      topics = { topics: [name, naming.queueRetryTopic(name)], owner: { kind: 'queue', queue: name } }
      this.queueTopicNames.set(name, topics)
    }
    return topics
  }

  /** Makes the topics not made yet; undefined when every one is known to exist (nothing to wait for). */
  private ensureTopics(names: readonly string[], options: KafkaTopicOptions = this.settings): Promise<void> | undefined {
    if (names.every((name) => this.readyTopics.has(name))) return undefined
    const missing = names.filter((name) => !this.topics.has(name))
    if (missing.length > 0) {
      const creating = this.createTopics(
        missing.map((name) => ({ name, partitions: options.partitions })),
        options.replicationFactor,
      )
      for (const name of missing) {
        this.topics.set(name, creating)
        creating.then(
          // Still the promise of record: a topic deleted (forgotten) meanwhile is not marked made.
          () => this.topics.get(name) === creating && this.readyTopics.add(name),
          () => this.topics.delete(name),
        )
      }
    }
    return Promise.all(names.map((name) => this.topics.get(name))).then(() => undefined)
  }

  private async createTopics(topics: Array<{ name: string; partitions: number }>, replicationFactor = this.settings.replicationFactor): Promise<void> {
    try {
      await retryTransient(() => this.driver.createTopics(topics.map((topic) => ({ ...topic, replicationFactor }))))
    } catch (error) {
      throw wrapError(error, `creating topic(s) ${topics.map((topic) => `'${topic.name}'`).join(', ')}`)
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.consumers].map((consumer) => consumer.close()))
      await this.publisher.flush()
      await this.driver.close()
    })()
    return this.closing
  }

  async terminate(): Promise<void> {
    this.closing ??= (async () => {
      for (const consumer of this.consumers) consumer.abandon()
      await this.driver.terminate()
    })()
    return this.closing
  }

  private assertOpen(): void {
    if (this.closing) throw new ClosedError('the kafka connection', { adapter })
  }
}
