import type { Destination, QueueSpec, SubscriptionSpec } from '@anymq/core/spi'
import type { v1 } from '@google-cloud/pubsub'
import { codeOf, connectionError, grpcCode } from './gcp-pubsub-errors.js'
import { escapeName, type PubSubNames } from './gcp-pubsub-names.js'

/** Where a consumer pulls from and where its retries go. */
export interface ConsumerTarget {
  /** Full subscription path. */
  subscription: string
  /** Full topic path a retry is published to. */
  retryTopic: string
  /** On a topic: this subscription's escaped name, so messages addressed to another one are skipped. */
  self: string | undefined
  /** Removed when the consumer closes (unnamed subscriptions, reply inboxes). */
  temporary: boolean
  /** A reply inbox owns its topic too. */
  ownsTopic: boolean
}

/** Pub/Sub's largest `maxDeliveryAttempts`; a subscription needs a dead-letter policy to report delivery attempts. */
const maxDeliveryAttempts = 100
/** Unused temporary subscriptions of a crashed process expire after a day (Pub/Sub's minimum). */
const temporaryTtlSeconds = 86_400

/**
 * Creates topics and subscriptions on first use and remembers them for the connection. Every
 * subscription has message ordering on (messages with a key are delivered in key order), and a
 * dead-letter policy at the maximum of 100 attempts so that Pub/Sub reports `deliveryAttempt`.
 */
export class PubSubTopology {
  private readonly created = new Map<string, Promise<void>>()

  constructor(
    private readonly publisher: v1.PublisherClient,
    private readonly subscriber: v1.SubscriberClient,
    private readonly names: PubSubNames,
    private readonly ackDeadlineSeconds: number,
  ) {}

  ensureQueueTopic(queue: string): Promise<string> {
    return this.ensureTopic(this.names.topic(this.names.queueId(queue)))
  }

  ensureTopicTopic(topic: string): Promise<string> {
    return this.ensureTopic(this.names.topic(this.names.topicId(topic)))
  }

  async queueConsumer(spec: QueueSpec): Promise<ConsumerTarget> {
    const topic = await this.ensureQueueTopic(spec.name)
    const subscription = this.names.subscription(this.names.queueId(spec.name))
    await this.ensureSubscription(subscription, topic, false)
    return { subscription, retryTopic: topic, self: undefined, temporary: false, ownsTopic: false }
  }

  async subscriptionConsumer(spec: SubscriptionSpec, unique: string): Promise<ConsumerTarget> {
    const topic = await this.ensureTopicTopic(spec.topic)
    const temporary = spec.name === undefined
    const subscription = this.names.subscription(
      temporary ? this.names.ephemeralId(spec.topic, unique) : this.names.subscriptionId(spec.topic, spec.name as string),
    )
    await this.ensureSubscription(subscription, topic, temporary)
    return { subscription, retryTopic: topic, self: temporary ? `~${unique}` : escapeName(spec.name as string), temporary, ownsTopic: false }
  }

  async replyConsumer(unique: string): Promise<ConsumerTarget> {
    const id = this.names.replyId(unique)
    const topic = await this.ensureTopic(this.names.topic(id))
    const subscription = this.names.subscription(id)
    await this.ensureSubscription(subscription, topic, true)
    return { subscription, retryTopic: topic, self: undefined, temporary: true, ownsTopic: true }
  }

  /** Whether the subscription of a queue exists (peek and move on a queue never used return nothing). */
  async hasQueue(queue: string): Promise<boolean> {
    try {
      await this.subscriber.getSubscription({ subscription: this.names.subscription(this.names.queueId(queue)) })
      return true
    } catch (error) {
      if (codeOf(error) === grpcCode.notFound) return false
      throw connectionError(`reading the subscription of queue '${queue}'`, error)
    }
  }

  /** Forget a deleted topic or subscription, so the next use creates it again. */
  forget(path: string): void {
    this.created.delete(path)
  }

  /** Forgets what a publish to `destination` creates (a queue's topic and subscription, a topic), found deleted. */
  forgetDestination(destination: Destination): void {
    if (destination.kind === 'queue') {
      const id = this.names.queueId(destination.queue.name)
      this.created.delete(this.names.topic(id))
      this.created.delete(this.names.subscription(id))
    } else if (destination.kind === 'topic') this.created.delete(this.names.topic(this.names.topicId(destination.topic)))
    else if (destination.kind === 'subscription') this.created.delete(this.names.topic(this.names.topicId(destination.subscription.topic)))
  }

  /** Forgets a consumer's subscription and topic, found deleted, so that ensuring it again creates them. */
  forgetTarget(target: ConsumerTarget): void {
    this.created.delete(target.subscription)
    this.created.delete(target.retryTopic)
  }

  async remove(target: ConsumerTarget): Promise<void> {
    this.created.delete(target.subscription)
    await this.subscriber.deleteSubscription({ subscription: target.subscription }).catch(() => {})
    if (target.ownsTopic) {
      this.created.delete(target.retryTopic)
      await this.publisher.deleteTopic({ topic: target.retryTopic }).catch(() => {})
    }
  }

  private ensureTopic(topic: string): Promise<string> {
    return this.once(topic, async () => {
      try {
        await this.publisher.createTopic({ name: topic })
      } catch (error) {
        if (codeOf(error) !== grpcCode.alreadyExists) throw connectionError(`creating topic '${topic}'`, error)
      }
    }).then(() => topic)
  }

  private async ensureSubscription(subscription: string, topic: string, temporary: boolean): Promise<void> {
    const deadLetterTopic = await this.ensureTopic(this.names.topic(this.names.deadLetterTopicId()))
    await this.once(subscription, async () => {
      try {
        await this.subscriber.createSubscription({
          name: subscription,
          topic,
          ackDeadlineSeconds: this.ackDeadlineSeconds,
          enableMessageOrdering: true,
          deadLetterPolicy: { deadLetterTopic, maxDeliveryAttempts },
          ...(temporary ? { expirationPolicy: { ttl: { seconds: temporaryTtlSeconds } } } : {}),
        })
      } catch (error) {
        if (codeOf(error) !== grpcCode.alreadyExists) throw connectionError(`creating subscription '${subscription}'`, error)
      }
    })
  }

  private once(name: string, create: () => Promise<void>): Promise<void> {
    let pending = this.created.get(name)
    if (!pending) {
      pending = create()
      pending.catch(() => this.created.delete(name))
      this.created.set(name, pending)
    }
    return pending
  }
}
