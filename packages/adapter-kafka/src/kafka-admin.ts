import {
  type AdminTarget,
  type BrokerStats,
  describeDestination,
  type IncomingMessage,
  type ListedDestination,
  type QueueSpec,
  type Source,
  type TransportAdmin,
  UnsupportedFeatureError,
} from '@anymq/core/spi'
import type { KafkaDriver, PartitionRange } from './kafka-driver.js'
import { retryTransient, wrapError } from './kafka-errors.js'
import { assertTargetName } from './kafka-names.js'
import type { RedeliveryOwner, RedeliveryOwners } from './kafka-redelivery-owners.js'
import { naming } from './kafka-wire.js'

const adapter = 'kafka'
/** How long a deletion may take to show in the topic list (Kafka deletes topics asynchronously). */
const deletionWaitMs = 15_000

/** Why a log cannot serve dead-letter operations by id: the message core puts in its `UnsupportedFeatureError`. */
export const deadLetterByIdRefusal =
  'a Kafka topic is an append-only log: one record in the middle of a partition cannot be removed (DeleteRecords only cuts a partition from its start); use deadLetters().peek() and redrive() of the whole dead-letter queue'

/** What the admin calls borrow from the transport. */
export interface KafkaAdminContext {
  driver: KafkaDriver
  /** The connection's redelivery-topic owners: a purge must not cut another destination's retries. */
  owners: RedeliveryOwners
  assertOpen(): void
  /** Forgets topics the transport created on this connection, so the next use creates them again. */
  forgetTopics(topics: readonly string[]): void
}

/** The Kafka topics and the consumer group behind a queue or a named subscription. */
interface Located {
  group: string
  /** The queue's topic, or the subscription's topic (shared with the other subscriptions). */
  main: string
  /** The group's own redelivery topic: retries and delayed sends. */
  retry: string
  /** Where a partition the group has no committed offset for starts counting. */
  uncommitted: 'low' | 'high'
  shared: boolean
  /** The queue or subscription whose redelivery topic `retry` is. */
  owner: RedeliveryOwner
}

/**
 * Stats, purge, delete and list with Kafka's admin API. A queue or subscription is a consumer group:
 * what waits is its lag (high watermark minus committed offset, summed over the partitions of its
 * topic and its redelivery topic). Kafka does not know which records a consumer fetched and has not
 * committed yet, so those are in `ready` and `inFlight` is `undefined`; the age of a record is only
 * known by reading it, so `oldestAgeMs` is `undefined` too. Dead letters by id are not served: see
 * {@link deadLetterByIdRefusal}.
 */
export class KafkaAdmin implements TransportAdmin {
  readonly refusals = { deadLetterById: deadLetterByIdRefusal }

  constructor(private readonly context: KafkaAdminContext) {}

  async stats(source: Source): Promise<BrokerStats> {
    this.context.assertOpen()
    assertTargetName(source)
    const located = locate(source)
    return this.call(`reading stats of ${describeDestination(source)}`, async () => {
      const existing = await this.existing([located.main, located.retry])
      let ready = 0
      for (const topic of existing) {
        const [ranges, committed] = await retryTransient(() => Promise.all([this.driver.topicRanges(topic), this.driver.groupOffsets(located.group, topic)]))
        // A subscription's group that never committed on its topic does not exist yet: nothing waits for it.
        const start = topic === located.main && located.uncommitted === 'high' && committed.size === 0 ? 'high' : 'low'
        for (const range of ranges) ready += range.high - Math.max(committed.get(range.partition) ?? range[start], range.low)
      }
      const consumers = existing.length === 0 ? 0 : await this.driver.groupMembers(located.group)
      return { ready, inFlight: undefined, consumers, oldestAgeMs: undefined }
    })
  }

  async purge(source: Source): Promise<void> {
    this.context.assertOpen()
    assertTargetName(source)
    const located = locate(source)
    // Refused while another destination shares the redelivery topic: its records would go too.
    await this.context.owners.claim(located.owner)
    await this.call(`purging ${describeDestination(source)}`, async () => {
      const existing = await this.existing([located.main, located.retry])
      for (const topic of existing) {
        const ranges = await retryTransient(() => this.driver.topicRanges(topic))
        if (topic === located.main && located.shared) {
          // The other subscriptions still read this topic: only this group moves to the end.
          await this.refuseWhileConsumed(located.group, 'purge() of a subscription')
          await this.driver.setGroupOffsets(
            located.group,
            topic,
            ranges.map((range) => ({ partition: range.partition, offset: range.high })),
          )
        } else {
          await cutToEnd(this.context.driver, topic, ranges)
        }
      }
    })
  }

  async remove(target: AdminTarget): Promise<void> {
    this.context.assertOpen()
    assertTargetName(target)
    await this.call(`deleting ${describeDestination(target)}`, async () => {
      const groups = new Set(await this.driver.listGroups())
      let deadGroups: string[]
      let deadTopics: string[]
      if (target.kind === 'topic') {
        const subscriptions = [...groups].flatMap((group) => {
          const name = subscriptionOf(group, target.topic)
          return name === undefined ? [] : [name]
        })
        deadGroups = subscriptions.map((name) => naming.subscriptionGroup(target.topic, name))
        deadTopics = [target.topic, ...subscriptions.map((name) => naming.subscriptionRetryTopic(target.topic, name))]
      } else {
        const located = locate(target)
        deadGroups = [located.group]
        // A subscription's topic stays: the other subscriptions read it.
        deadTopics = located.shared ? [located.retry] : [located.main, located.retry]
      }
      deadGroups = deadGroups.filter((group) => groups.has(group))
      // A group that outlived its topics would start a new topic of the same name at its old offsets and skip records.
      for (const group of deadGroups) await this.refuseWhileConsumed(group, `deleting ${describeDestination(target)}`)
      const topics = await this.existing(deadTopics)
      if (topics.length > 0) await this.driver.deleteTopics(topics)
      if (deadGroups.length > 0) await this.driver.deleteGroups(deadGroups)
      this.context.forgetTopics(deadTopics)
      if (target.kind === 'topic') this.context.owners.forgetSubscriptionsOf(target.topic)
      else this.context.owners.forget(locate(target).owner)
      await this.waitUntilGone(topics)
    })
  }

  async list(prefix: string): Promise<ListedDestination[]> {
    this.context.assertOpen()
    return this.call('listing queues and topics', async () => {
      const [topics, groups] = await Promise.all([this.driver.listTopics(), this.driver.listGroups()])
      const all = new Set(topics)
      const subscriptions = groups.flatMap((group) => {
        const parts = /^anymq:subscription:([^:]+):([^:]+)$/.exec(group)
        return parts ? [{ topic: parts[1] as string, name: parts[2] as string }] : []
      })
      const privateTopics = new Set(subscriptions.map(({ topic, name }) => naming.subscriptionRetryTopic(topic, name)))
      for (const topic of all) if (all.has(naming.queueRetryTopic(topic))) privateTopics.add(naming.queueRetryTopic(topic))
      const found: ListedDestination[] = []
      for (const topic of all) {
        if (!topic.startsWith(prefix) || privateTopics.has(topic) || topic.startsWith('__') || topic.startsWith(naming.inboxTopic(''))) continue
        // A queue's topic comes with its redelivery topic (made on the first send); a topic has none.
        if (all.has(naming.queueRetryTopic(topic))) found.push({ kind: 'queue', name: topic })
        else {
          found.push({ kind: 'topic', name: topic })
          for (const subscription of subscriptions) if (subscription.topic === topic) found.push({ kind: 'subscription', name: subscription.name, topic })
        }
      }
      return found
    })
  }

  async takeById(_queue: QueueSpec, _id: string, _handle: (message: IncomingMessage) => Promise<void>): Promise<boolean> {
    throw new UnsupportedFeatureError(adapter, 'dead-letter operations by id', deadLetterByIdRefusal)
  }

  private get driver(): KafkaDriver {
    return this.context.driver
  }

  /** The ones of `topics` that exist: asking for the offsets of a missing topic could create it (auto.create.topics.enable). */
  private async existing(topics: readonly string[]): Promise<string[]> {
    const all = new Set(await this.driver.listTopics())
    return topics.filter((topic) => all.has(topic))
  }

  private async refuseWhileConsumed(group: string, what: string): Promise<void> {
    const members = await this.driver.groupMembers(group)
    if (members > 0) {
      throw new UnsupportedFeatureError(
        adapter,
        `${what} while ${members} consumer(s) are attached`,
        `close its consumers first: Kafka changes a consumer group's offsets only while the group has no member (group '${group}')`,
      )
    }
  }

  private async waitUntilGone(topics: readonly string[]): Promise<void> {
    const deadline = Date.now() + deletionWaitMs
    while (topics.length > 0 && (await this.existing(topics)).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw wrapError(error, what)
    }
  }
}

/** Deletes every record of `topic` (the log start moves to the high watermark of each partition). */
async function cutToEnd(kafka: KafkaDriver, topic: string, ranges: readonly PartitionRange[]): Promise<void> {
  const offsets = ranges.filter((range) => range.high > range.low).map((range) => ({ partition: range.partition, offset: range.high }))
  if (offsets.length > 0) await kafka.deleteRecords(topic, offsets)
}

function locate(source: Source): Located {
  if (source.kind === 'queue') {
    const name = source.queue.name
    return {
      group: naming.queueGroup(name),
      main: name,
      retry: naming.queueRetryTopic(name),
      uncommitted: 'low',
      shared: false,
      owner: { kind: 'queue', queue: name },
    }
  }
  const { topic, name, startFrom } = source.subscription
  if (name === undefined) throw new UnsupportedFeatureError(adapter, 'admin calls on an ephemeral subscription', 'name the subscription')
  return {
    group: naming.subscriptionGroup(topic, name),
    main: topic,
    retry: naming.subscriptionRetryTopic(topic, name),
    uncommitted: startFrom === 'earliest' ? 'low' : 'high',
    shared: true,
    owner: { kind: 'subscription', topic, subscription: name },
  }
}

/** The subscription name of an anymq subscription group of `topic`, else `undefined`. */
function subscriptionOf(group: string, topic: string): string | undefined {
  const prefix = naming.subscriptionGroup(topic, '')
  return group.startsWith(prefix) ? group.slice(prefix.length) : undefined
}
