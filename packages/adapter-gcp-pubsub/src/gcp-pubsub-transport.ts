import { randomUUID } from 'node:crypto'
import {
  AbortedError,
  type Capabilities,
  ClosedError,
  type ConnectionStateTracker,
  type Delivery,
  type Destination,
  describeDestination,
  type Inbox,
  type IncomingMessage,
  type Logger,
  type OutgoingMessage,
  type QueueSpec,
  type Source,
  type TopicFilter,
  type Transport,
  type TransportConsumeOptions,
  type TransportConsumer,
  UnsupportedFeatureError,
} from '@anymq/core/spi'
import type { v1 } from '@google-cloud/pubsub'
import { PubSubAdmin } from './gcp-pubsub-admin.js'
import type { PubSubSettings } from './gcp-pubsub-config.js'
import { PubSubConsumer } from './gcp-pubsub-consumer.js'
import { connectionError } from './gcp-pubsub-errors.js'
import { PubSubNames } from './gcp-pubsub-names.js'
import { PubSubPublisher } from './gcp-pubsub-publisher.js'
import { type ConsumerTarget, PubSubTopology } from './gcp-pubsub-topology.js'
import { decodeMessage, type PubSubWireMessage } from './gcp-pubsub-wire.js'

/**
 * A peek is a delivery on Pub/Sub's side, and after 100 deliveries the dead-letter policy forwards the
 * message to `anymq.undeliverable`. A message peeked this often is republished as it is and the worn
 * copy acknowledged, so polling `peek()` never pushes messages out of anymq's reach.
 */
const refreshAfterDeliveries = 50

/** One connection to Pub/Sub: a publisher client and a subscriber client, shared by every queue, topic and inbox. */
export class PubSubTransport implements Transport {
  private readonly names: PubSubNames
  private readonly topology: PubSubTopology
  private readonly publisher: PubSubPublisher
  private readonly consumers = new Set<PubSubConsumer>()
  private closed = false
  readonly admin: PubSubAdmin

  constructor(
    private readonly publisherClient: v1.PublisherClient,
    private readonly subscriber: v1.SubscriberClient,
    private readonly settings: PubSubSettings,
    readonly capabilities: Capabilities,
    private readonly connectionState: ConnectionStateTracker,
    private readonly logger: Logger,
  ) {
    this.names = new PubSubNames(settings.projectId, settings.prefix)
    this.topology = new PubSubTopology(publisherClient, subscriber, this.names, settings.ackDeadlineSeconds)
    this.publisher = new PubSubPublisher(publisherClient, this.topology, settings.maxPublishBytes)
    this.admin = new PubSubAdmin({
      publisher: publisherClient,
      subscriber,
      names: this.names,
      topology: this.topology,
      projectId: settings.projectId,
      assertOpen: () => this.assertOpen(),
    })
  }

  async publish(destination: Destination, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    this.assertOpen()
    if (signal?.aborted) throw new AbortedError(`publishing to ${describeDestination(destination)}`, { adapter: 'gcp-pubsub' })
    await this.publisher.publish(destination, messages)
  }

  async consume(source: Source, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<TransportConsumer> {
    this.assertOpen()
    if (source.kind === 'subscription' && source.subscription.startFrom === 'earliest') {
      throw new UnsupportedFeatureError('gcp-pubsub', "startFrom: 'earliest'", 'a named subscription created before the messages are published')
    }
    const unique = randomUUID()
    const ensureTarget = () =>
      source.kind === 'queue' ? this.topology.queueConsumer(source.queue) : this.topology.subscriptionConsumer(source.subscription, unique)
    return this.start(await ensureTarget(), ensureTarget, source.kind === 'subscription' ? source.subscription.filter : undefined, options, deliver)
  }

  async openInbox(options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<Inbox> {
    this.assertOpen()
    const unique = randomUUID()
    const ensureTarget = () => this.topology.replyConsumer(unique)
    const target = await ensureTarget()
    const consumer = this.start(target, ensureTarget, undefined, options, deliver)
    return { address: target.retryTopic, close: () => consumer.close() }
  }

  /**
   * Pub/Sub has no browse: peek pulls up to `limit` messages and gives them back at once (ack
   * deadline 0). They count as a delivery on Pub/Sub's side, and a consumer may see them a moment later.
   */
  async peek(queue: QueueSpec, limit: number): Promise<IncomingMessage[]> {
    this.assertOpen()
    if (!(await this.topology.hasQueue(queue.name))) return []
    const subscription = this.names.subscription(this.names.queueId(queue.name))
    try {
      const [response] = await this.subscriber.pull({ subscription, maxMessages: limit }, { timeout: 10_000 })
      const received = response.receivedMessages ?? []
      const worn = received.filter((item) => (item.deliveryAttempt ?? 0) >= refreshAfterDeliveries)
      const fresh = received.filter((item) => !worn.includes(item))
      const ackIds = fresh.map((item) => item.ackId).filter((id): id is string => typeof id === 'string')
      if (ackIds.length > 0) await this.subscriber.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 })
      if (worn.length > 0) {
        // Republished unchanged before Pub/Sub's 100-delivery limit forwards it away; the original is acked after.
        const topic = this.names.topic(this.names.queueId(queue.name))
        await this.publisherClient.publish({
          topic,
          messages: worn.map(({ message }) => ({ data: message?.data, attributes: message?.attributes, orderingKey: message?.orderingKey })),
        })
        await this.subscriber.acknowledge({ subscription, ackIds: worn.map((item) => item.ackId as string) })
      }
      return received.map((item) => decodeMessage(item.message as PubSubWireMessage, 0).message)
    } catch (error) {
      throw connectionError(`peeking into queue '${queue.name}'`, error)
    }
  }

  async move(from: QueueSpec, to: Destination, limit: number, prepare: (message: IncomingMessage) => OutgoingMessage): Promise<number> {
    this.assertOpen()
    if (!(await this.topology.hasQueue(from.name))) return 0
    const subscription = this.names.subscription(this.names.queueId(from.name))
    let moved = 0
    // Only what was there when the move began: a redriven message that fails again and comes back is not moved twice.
    const startedAt = Date.now()
    try {
      while (moved < limit) {
        const [response] = await this.subscriber.pull({ subscription, maxMessages: Math.min(100, limit - moved) }, { timeout: 10_000 })
        const received = response.receivedMessages ?? []
        if (received.length === 0) break
        const later = received.filter((item) => decodeMessage(item.message as PubSubWireMessage, 0).publishedAt >= startedAt)
        if (later.length > 0) {
          await this.subscriber.modifyAckDeadline({ subscription, ackIds: later.map((item) => item.ackId as string), ackDeadlineSeconds: 0 })
        }
        const earlier = received.filter((item) => !later.includes(item))
        for (const item of earlier) {
          await this.publisher.publish(to, [prepare(decodeMessage(item.message as PubSubWireMessage, 0).message)])
          // Removed from the source only once the destination has it.
          await this.subscriber.acknowledge({ subscription, ackIds: [item.ackId as string] })
          moved++
        }
        if (later.length > 0) break
      }
    } catch (error) {
      throw connectionError(`moving messages from queue '${from.name}' to ${describeDestination(to)}`, error)
    }
    return moved
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.close()))
    this.consumers.clear()
    await Promise.allSettled([this.publisherClient.close(), this.subscriber.close()])
  }

  async terminate(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // Nothing is settled; Pub/Sub redelivers each message when its ack deadline passes.
    for (const consumer of this.consumers) consumer.abandon()
    this.consumers.clear()
    await Promise.allSettled([this.publisherClient.close(), this.subscriber.close()])
  }

  private start(
    target: ConsumerTarget,
    ensureTarget: () => Promise<ConsumerTarget>,
    filter: TopicFilter | undefined,
    options: TransportConsumeOptions,
    deliver: (delivery: Delivery) => void,
  ): TransportConsumer {
    const consumer = new PubSubConsumer(
      {
        subscriber: this.subscriber,
        topology: this.topology,
        publisher: this.publisher,
        maxPull: this.settings.maxPull,
        ackDeadlineSeconds: this.settings.ackDeadlineSeconds,
        connectionState: this.connectionState,
        logger: this.logger,
        recreateSubscription: async () => {
          this.topology.forgetTarget(target)
          await ensureTarget()
        },
      },
      target,
      filter,
      options,
      deliver,
    )
    consumer.start()
    this.consumers.add(consumer)
    return {
      stop: () => consumer.stop(),
      close: async () => {
        this.consumers.delete(consumer)
        await consumer.close()
      },
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('the Pub/Sub connection', { adapter: 'gcp-pubsub' })
  }
}
