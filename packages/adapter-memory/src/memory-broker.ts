import { randomUUID } from 'node:crypto'
import { filterMatches, type SubscriptionSpec, type TopicFilter } from '@anymq/core/spi'
import { Deque } from './deque.js'
import { MemoryQueue } from './memory-queue.js'
import { copyStored, type StoredMessage } from './stored-message.js'
import { TimerSet } from './timer-set.js'

interface MemorySubscription {
  queue: MemoryQueue
  filter: TopicFilter | undefined
}

interface MemoryTopic {
  subscriptions: Map<string, MemorySubscription>
  /** Recent messages, for subscriptions that start from the earliest. */
  log: Deque<StoredMessage>
}

/**
 * One in-process broker. Connections to the same `memory://<name>` share it, so competing consumers,
 * fan-out and request/reply work between connections exactly as between processes on a real broker.
 */
export class MemoryBroker {
  readonly timers = new TimerSet()
  private readonly queues = new Map<string, MemoryQueue>()
  private readonly topics = new Map<string, MemoryTopic>()
  private connections = 0

  constructor(readonly topicRetention: number) {}

  opened(): void {
    this.connections++
    this.timers.setReferenced(true)
  }

  closed(): void {
    this.connections = Math.max(0, this.connections - 1)
    if (this.connections === 0) this.timers.setReferenced(false)
  }

  queue(name: string): MemoryQueue {
    let queue = this.queues.get(name)
    if (!queue) {
      queue = new MemoryQueue(name, this.timers)
      this.queues.set(name, queue)
    }
    return queue
  }

  /**
   * Deletes a queue with its waiting and delayed messages. One with a consumer attached is made again
   * at once, empty, for that consumer, as a RabbitMQ consumer declares its queue again when it is
   * deleted: forgetting it would leave the consumer on a queue nothing reaches any more, and its
   * delayed messages delivered after the delete.
   */
  deleteQueue(name: string): void {
    const queue = this.queues.get(name)
    if (!queue) return
    queue.clear()
    if (!queue.hasConsumers) this.queues.delete(name)
  }

  /** The queue of this name, or of this topic's subscription, without creating it. */
  existing(target: { queue: string } | { topic: string; subscription: string }): MemoryQueue | undefined {
    if ('queue' in target) return this.queues.get(target.queue)
    return this.topics.get(target.topic)?.subscriptions.get(target.subscription)?.queue
  }

  /** Deletes a subscription with its messages; one a subscriber is attached to is made again, empty, as {@link deleteQueue} does. */
  deleteSubscription(topic: string, name: string): void {
    const subscriptions = this.topics.get(topic)?.subscriptions
    const subscription = subscriptions?.get(name)
    if (!subscription) return
    subscription.queue.clear()
    if (!subscription.queue.hasConsumers) subscriptions!.delete(name)
  }

  /** Deletes a topic with its retained messages and subscriptions; those with a subscriber attached are made again, empty. */
  deleteTopic(name: string): void {
    const topic = this.topics.get(name)
    if (!topic) return
    for (const subscription of [...topic.subscriptions.keys()]) this.deleteSubscription(name, subscription)
    if (topic.subscriptions.size === 0) this.topics.delete(name)
    else while (topic.log.length > 0) topic.log.shift()
  }

  /** Every queue, topic and named subscription, without reply inboxes and ephemeral subscriptions. */
  names(): { queues: string[]; topics: { name: string; subscriptions: string[] }[] } {
    return {
      queues: [...this.queues.keys()].filter((name) => !name.startsWith('~')),
      topics: [...this.topics.entries()].map(([name, topic]) => ({
        name,
        subscriptions: [...topic.subscriptions.keys()].filter((subscription) => !subscription.startsWith('~')),
      })),
    }
  }

  publishToTopic(name: string, stored: StoredMessage): void {
    const topic = this.topic(name)
    topic.log.push(stored)
    while (topic.log.length > this.topicRetention) topic.log.shift()
    for (const subscription of topic.subscriptions.values()) {
      if (filterMatches(subscription.filter, stored.message.subject, stored.message.headers)) subscription.queue.enqueue(copyStored(stored), 0)
    }
  }

  /** The queue behind a subscription, created on first use (from the earliest retained message if asked). */
  subscription(spec: SubscriptionSpec): {
    queue: MemoryQueue
    remove: () => void
  } {
    const topic = this.topic(spec.topic)
    const name = spec.name ?? `~ephemeral-${randomUUID()}`
    let subscription = topic.subscriptions.get(name)
    if (!subscription) {
      subscription = {
        queue: new MemoryQueue(`${spec.topic}/${name}`, this.timers),
        filter: spec.filter,
      }
      topic.subscriptions.set(name, subscription)
      if (spec.startFrom === 'earliest') {
        for (const stored of topic.log) {
          if (filterMatches(spec.filter, stored.message.subject, stored.message.headers)) subscription.queue.enqueue(copyStored(stored), 0)
        }
      }
    }
    const queue = subscription.queue
    return {
      queue,
      remove: () => (spec.name === undefined ? topic.subscriptions.delete(name) : undefined),
    }
  }

  private topic(name: string): MemoryTopic {
    let topic = this.topics.get(name)
    if (!topic) {
      topic = { subscriptions: new Map(), log: new Deque() }
      this.topics.set(name, topic)
    }
    return topic
  }
}

const brokers = new Map<string, MemoryBroker>()

/** The broker for `memory://<name>`; the empty name is the process-wide default. */
export function brokerNamed(name: string, topicRetention: number): MemoryBroker {
  let broker = brokers.get(name)
  if (!broker) {
    broker = new MemoryBroker(topicRetention)
    brokers.set(name, broker)
  }
  return broker
}
