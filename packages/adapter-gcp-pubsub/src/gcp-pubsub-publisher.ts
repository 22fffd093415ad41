import { type Destination, describeDestination, type OutgoingMessage } from '@anymq/core/spi'
import type { v1 } from '@google-cloud/pubsub'
import { codeOf, grpcCode, publishError } from './gcp-pubsub-errors.js'
import { escapeName } from './gcp-pubsub-names.js'
import { publishRequests } from './gcp-pubsub-publish-requests.js'
import type { PubSubTopology } from './gcp-pubsub-topology.js'
import { encodeMessage } from './gcp-pubsub-wire.js'

/**
 * Publishes with the Publish RPC and resolves once Pub/Sub returned a message id for every message
 * (stored). A batch goes out in as few calls as fit (1000 messages and `maxRequestBytes` each), one
 * after the other, which keeps it in order.
 */
export class PubSubPublisher {
  constructor(
    private readonly client: v1.PublisherClient,
    private readonly topology: PubSubTopology,
    private readonly maxRequestBytes: number,
  ) {}

  async publish(destination: Destination, messages: readonly OutgoingMessage[]): Promise<void> {
    switch (destination.kind) {
      case 'queue': {
        // A topic drops what it gets while it has no subscription: the queue's subscription comes first.
        const ensure = async () => (await this.topology.queueConsumer(destination.queue)).retryTopic
        // Pub/Sub hands out only the oldest unacknowledged message of an ordering key, so a queue made for
        // inspection (no dead-letter queue of its own and not ordered: a dead-letter queue) gets no
        // ordering keys, and peek and redrive see every message.
        const ordered = destination.queue.ordered || destination.queue.deadLetter !== false
        return this.publishToEnsured(ensure, messages, undefined, destination, ordered)
      }
      case 'topic':
        return this.publishToEnsured(() => this.topology.ensureTopicTopic(destination.topic), messages, undefined, destination)
      case 'subscription': {
        const { topic, name } = destination.subscription
        // An unnamed subscription has no stable id; a redrive targets named ones only.
        const to = name === undefined ? undefined : escapeName(name)
        return this.publishToEnsured(() => this.topology.ensureTopicTopic(topic), messages, to, destination)
      }
      case 'inbox':
        return this.publishTo(destination.address, messages, undefined, destination, false)
    }
  }

  /** Publishes to a topic path; `to` addresses one subscription of a topic, `delayMs` becomes the due time. */
  async publishTo(
    topic: string,
    messages: readonly OutgoingMessage[],
    to: string | undefined,
    destination?: Destination,
    ordered = true,
    recreate?: () => Promise<unknown>,
  ): Promise<void> {
    const now = Date.now()
    const encoded = messages.map((message) => encodeMessage(message, { deliverAt: message.delayMs > 0 ? now + message.delayMs : undefined, to, ordered }))
    for (const request of publishRequests(encoded, this.maxRequestBytes)) {
      try {
        await this.client.publish({ topic, messages: request }).catch(async (error: unknown) => {
          // A NOT_FOUND Publish stored nothing: once the topic is back, the same request goes again.
          if (recreate === undefined || codeOf(error) !== grpcCode.notFound) throw error
          await recreate()
          await this.client.publish({ topic, messages: request })
        })
      } catch (error) {
        throw publishError(`publishing to ${destination ? describeDestination(destination) : `'${topic}'`}`, error)
      }
    }
  }

  /**
   * Publishes to the topic `ensure` creates. Topics and subscriptions are created once per connection,
   * so one deleted since (by another process, or an operator) made every later publish NOT_FOUND: it
   * is created again, subscription first for a queue, and the request that found nothing published again.
   */
  private async publishToEnsured(
    ensure: () => Promise<string>,
    messages: readonly OutgoingMessage[],
    to: string | undefined,
    destination: Destination,
    ordered = true,
  ): Promise<void> {
    const topic = await ensure()
    const recreate = async () => {
      this.topology.forgetDestination(destination)
      await ensure()
    }
    return this.publishTo(topic, messages, to, destination, ordered, recreate)
  }
}
