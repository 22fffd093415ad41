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
      case 'queue': {
        const queue = destination.queue.name
        // An ordered queue's messages that must wait do so apart from it (see NatsNames.delayStream).
        const waiting = destination.queue.ordered ? messages.filter((message) => message.delayMs > 0) : []
        const due = waiting.length === 0 ? messages : messages.filter((message) => message.delayMs <= 0)
        if (due.length > 0) await this.publishToStream(() => this.topology.ensureQueue(queue), this.names.queueSubject(queue), due, destination)
        if (waiting.length > 0) {
          await this.publishToStream(() => this.topology.ensureDelayStream(queue), this.names.delaySubject(queue), waiting, destination)
        }
        return
      }
      case 'topic': {
        const topic = destination.topic
        return this.publishToStream(() => this.topology.ensureTopic(topic), this.names.topicSubject(topic), messages, destination)
      }
      case 'subscription': {
        const topic = destination.subscription.topic
        return this.publishToStream(() => this.topology.ensureTopic(topic), this.topology.subscriptionSubject(destination.subscription), messages, destination)
      }
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
    const failure = await this.store(subject, messages)
    if (failure !== undefined) throw publishError(`publishing to ${describeTarget(subject, destination)}`, failure)
  }

  /**
   * Publishes to the stream `ensure` creates. The stream is created once per connection, so one that
   * went away since (deleted by another process, or a `?storage=memory` stream lost in a server
   * restart) leaves its subject with no responder: it is created again and the messages published
   * once more. None of them was stored by that stream, so none is duplicated by the second publish.
   */
  private async publishToStream(ensure: () => Promise<string>, subject: string, messages: readonly OutgoingMessage[], destination: Destination): Promise<void> {
    const stream = await ensure()
    let failure = await this.store(subject, messages)
    if (failure !== undefined && isNoStreamForSubject(failure)) {
      this.topology.forget(stream)
      await ensure()
      failure = await this.store(subject, messages)
    }
    if (failure !== undefined) throw publishError(`publishing to ${describeTarget(subject, destination)}`, failure)
  }

  /** Sends every message and waits for every PubAck; the first failure, or `undefined` when all were stored. */
  private async store(subject: string, messages: readonly OutgoingMessage[]): Promise<unknown> {
    const now = Date.now()
    const acks = messages.map((message) =>
      this.client.publish(subject, message.body, {
        headers: encodeHeaders(message, message.delayMs > 0 ? now + message.delayMs : undefined),
      }),
    )
    const results = await Promise.allSettled(acks)
    const failed = results.find((result) => result.status === 'rejected')
    return failed?.reason
  }
}

function describeTarget(subject: string, destination: Destination | undefined): string {
  return destination ? describeDestination(destination) : `'${subject}'`
}

/**
 * A publish nobody answered: no stream listens on the subject. The client names this "jetstream is
 * not enabled" (`JetStreamNotEnabled`, not exported), but a connection only opens where JetStream answered.
 */
function isNoStreamForSubject(error: unknown): boolean {
  return error instanceof Error && error.name === 'JetStreamNotEnabled'
}
