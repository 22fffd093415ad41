import { type Destination, describeDestination, type OutgoingMessage } from '@anymq/core/spi'
import type { JetStreamClient } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { connectionError, publishError } from './nats-errors.js'
import type { NatsNames } from './nats-names.js'
import type { NatsTopology } from './nats-topology.js'
import { encodeHeaders } from './nats-wire.js'

/**
 * Publishes to JetStream and resolves once every message has its PubAck (stored by the stream, and by
 * a quorum of replicas in a cluster). Messages of one call are sent back to back and acknowledged in
 * order, so a batch keeps its order. Replies to inboxes go over core NATS, flushed to the server.
 */
export class NatsPublisher {
  constructor(
    private readonly connection: NatsConnection,
    private readonly client: JetStreamClient,
    private readonly names: NatsNames,
    private readonly topology: NatsTopology,
  ) {}

  async publish(destination: Destination, messages: readonly OutgoingMessage[]): Promise<void> {
    switch (destination.kind) {
      case 'queue':
        await this.topology.ensureQueue(destination.queue.name)
        return this.publishToSubject(this.names.queueSubject(destination.queue.name), messages, destination)
      case 'topic':
        await this.topology.ensureTopic(destination.topic)
        return this.publishToSubject(this.names.topicSubject(destination.topic), messages, destination)
      case 'subscription':
        await this.topology.ensureTopic(destination.subscription.topic)
        return this.publishToSubject(this.topology.subscriptionSubject(destination.subscription), messages, destination)
      case 'inbox':
        try {
          for (const message of messages) this.connection.publish(destination.address, message.body, { headers: encodeHeaders(message) })
          await this.connection.flush()
        } catch (error) {
          throw connectionError(`replying to ${describeDestination(destination)}`, error)
        }
    }
  }

  /** Publishes to a subject of a stream that exists; `delayMs` becomes the due time consumers wait for. */
  async publishToSubject(subject: string, messages: readonly OutgoingMessage[], destination?: Destination): Promise<void> {
    const now = Date.now()
    const acks = messages.map((message) =>
      this.client.publish(subject, message.body, {
        headers: encodeHeaders(message, message.delayMs > 0 ? now + message.delayMs : undefined),
      }),
    )
    const results = await Promise.allSettled(acks)
    const failed = results.find((result) => result.status === 'rejected')
    if (failed) throw publishError(`publishing to ${destination ? describeDestination(destination) : `'${subject}'`}`, failed.reason)
  }
}
