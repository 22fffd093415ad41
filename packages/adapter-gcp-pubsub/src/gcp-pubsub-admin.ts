import {
  type AdminTarget,
  type BrokerStats,
  type IncomingMessage,
  type ListedDestination,
  type QueueSpec,
  type Source,
  type TransportAdmin,
  UnsupportedFeatureError,
} from '@anymq/core/spi'
import type { v1 } from '@google-cloud/pubsub'
import { codeOf, connectionError, grpcCode } from './gcp-pubsub-errors.js'
import type { PubSubNames } from './gcp-pubsub-names.js'
import type { PubSubTopology } from './gcp-pubsub-topology.js'
import { decodeMessage, type PubSubWireMessage } from './gcp-pubsub-wire.js'

/** What the admin calls borrow from the transport. */
export interface PubSubAdminContext {
  publisher: v1.PublisherClient
  subscriber: v1.SubscriberClient
  names: PubSubNames
  topology: PubSubTopology
  projectId: string
  assertOpen(): void
}

/** What a pull hands out, as far as these calls read it. */
interface Received {
  ackId?: string | null
  message?: PubSubWireMessage | null
}

/**
 * How far ahead of this machine's clock a purge seeks: messages published just before it, by a clock a
 * little ahead of ours, go too. Seek is one operation at the moment of the call, so messages published
 * after it are kept whatever the target time (pstest and Pub/Sub alike).
 */
const purgeAheadMs = 1_000

/**
 * Purge, delete, list and dead letters by id over the Pub/Sub API. Pub/Sub's API has no counts (the
 * backlog is a Cloud Monitoring metric, `subscription/num_undelivered_messages`, which the emulator
 * does not have), so `stats()` is not served.
 */
export class PubSubAdmin implements TransportAdmin {
  constructor(private readonly context: PubSubAdminContext) {}

  async stats(): Promise<BrokerStats> {
    throw new UnsupportedFeatureError(
      'gcp-pubsub',
      'stats()',
      "Pub/Sub's API tells no counts: read subscription/num_undelivered_messages in Cloud Monitoring (the emulator has none)",
    )
  }

  async purge(source: Source): Promise<void> {
    this.context.assertOpen()
    const subscription = this.subscriptionOf(source)
    const time = Date.now() + purgeAheadMs
    try {
      // Seek to a time acknowledges every retained message published before it: a purge, without retention settings.
      await this.context.subscriber.seek({ subscription, time: { seconds: Math.floor(time / 1000), nanos: (time % 1000) * 1_000_000 } })
    } catch (error) {
      if (codeOf(error) !== grpcCode.notFound) throw connectionError(`purging subscription '${subscription}'`, error)
    }
  }

  async remove(target: AdminTarget): Promise<void> {
    this.context.assertOpen()
    const { names } = this.context
    if (target.kind === 'queue') {
      const id = names.queueId(target.queue.name)
      await this.deleteSubscription(names.subscription(id))
      await this.deleteTopic(names.topic(id))
    } else if (target.kind === 'subscription') {
      await this.deleteSubscription(this.subscriptionOf(target))
    } else {
      // Pub/Sub keeps a deleted topic's subscriptions (detached): they go first, unnamed ones included.
      const topic = names.topic(names.topicId(target.topic))
      for (const subscription of await this.subscriptionsOf(topic)) await this.deleteSubscription(subscription)
      await this.deleteTopic(topic)
    }
  }

  async list(prefix: string): Promise<ListedDestination[]> {
    this.context.assertOpen()
    const project = `projects/${this.context.projectId}`
    const { names } = this.context
    try {
      const [[topics], [subscriptions]] = await Promise.all([
        this.context.publisher.listTopics({ project }),
        this.context.subscriber.listSubscriptions({ project }),
      ])
      const fromTopics = topics.flatMap((topic) => names.parse(names.idOf(topic.name ?? '')) ?? [])
      const fromSubscriptions = subscriptions.flatMap((subscription) => {
        const found = names.parse(names.idOf(subscription.name ?? ''))
        return found?.kind === 'subscription' ? [found] : []
      })
      return [...fromTopics, ...fromSubscriptions].filter((found) => (found.kind === 'subscription' ? (found.topic ?? '') : found.name).startsWith(prefix))
    } catch (error) {
      throw connectionError(`listing the topics and subscriptions of ${project}`, error)
    }
  }

  async takeById(queue: QueueSpec, id: string, handle: (message: IncomingMessage) => Promise<void>): Promise<boolean> {
    this.context.assertOpen()
    const subscription = this.context.names.subscription(this.context.names.queueId(queue.name))
    // Every message pulled on the way stays leased to this call and is given back at once in finally.
    const held: Received[] = []
    let found: Received | undefined
    try {
      while (found === undefined) {
        const received = await this.pull(subscription)
        if (received.length === 0) return false
        for (const item of received) {
          if (found === undefined && decodeMessage(item.message as PubSubWireMessage, 0).message.id === id) found = item
          else held.push(item)
        }
      }
      try {
        await handle(decodeMessage(found.message as PubSubWireMessage, 0).message)
      } catch (error) {
        held.push(found)
        throw error
      }
      try {
        await this.context.subscriber.acknowledge({ subscription, ackIds: [found.ackId as string] })
      } catch (error) {
        throw connectionError(`acknowledging message '${id}' of queue '${queue.name}' after handling it (it comes back when its ack deadline passes)`, error)
      }
      return true
    } finally {
      const ackIds = held.map((item) => item.ackId).filter((ackId): ackId is string => typeof ackId === 'string')
      // Not given back here, a message only waits out its ack deadline: nothing is lost.
      if (ackIds.length > 0) await this.context.subscriber.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 }).catch(() => {})
    }
  }

  private async pull(subscription: string): Promise<Received[]> {
    try {
      const [response] = await this.context.subscriber.pull({ subscription, maxMessages: 100 }, { timeout: 10_000 })
      return response.receivedMessages ?? []
    } catch (error) {
      if (codeOf(error) === grpcCode.notFound) return []
      throw connectionError(`pulling from '${subscription}'`, error)
    }
  }

  private subscriptionOf(source: Source): string {
    const { names } = this.context
    if (source.kind === 'queue') return names.subscription(names.queueId(source.queue.name))
    const { topic, name } = source.subscription
    if (name === undefined) throw new UnsupportedFeatureError('gcp-pubsub', 'admin calls on an unnamed subscription', 'name the subscription')
    return names.subscription(names.subscriptionId(topic, name))
  }

  private async subscriptionsOf(topic: string): Promise<string[]> {
    try {
      const [subscriptions] = await this.context.publisher.listTopicSubscriptions({ topic })
      return subscriptions
    } catch (error) {
      if (codeOf(error) === grpcCode.notFound) return []
      throw connectionError(`listing the subscriptions of '${topic}'`, error)
    }
  }

  private async deleteSubscription(subscription: string): Promise<void> {
    this.context.topology.forget(subscription)
    try {
      await this.context.subscriber.deleteSubscription({ subscription })
    } catch (error) {
      if (codeOf(error) !== grpcCode.notFound) throw connectionError(`deleting subscription '${subscription}'`, error)
    }
  }

  private async deleteTopic(topic: string): Promise<void> {
    this.context.topology.forget(topic)
    try {
      await this.context.publisher.deleteTopic({ topic })
    } catch (error) {
      if (codeOf(error) !== grpcCode.notFound) throw connectionError(`deleting topic '${topic}'`, error)
    }
  }
}
