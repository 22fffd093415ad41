import { randomUUID } from 'node:crypto'
import {
  AbortedError,
  type Capabilities,
  ClosedError,
  type Delivery,
  type Destination,
  describeDestination,
  type Inbox,
  type IncomingMessage,
  type Logger,
  type OutgoingMessage,
  type QueueSpec,
  type Source,
  settlesWithin,
  type Transport,
  type TransportConsumeOptions,
  type TransportConsumer,
} from '@anymq/core/spi'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { NatsAdmin } from './nats-admin.js'
import type { NatsSettings } from './nats-config.js'
import { NatsConsumer } from './nats-consumer.js'
import { connectionError } from './nats-errors.js'
import { NatsInbox } from './nats-inbox.js'
import { NatsNames } from './nats-names.js'
import { NatsPublisher } from './nats-publisher.js'
import { isNotFound, NatsTopology } from './nats-topology.js'
import { decodeMessage } from './nats-wire.js'

/** Messages one pull request of `move` asks for. */
const moveBatch = 100
/** The longest `close()` waits for the server to answer its drain. */
const drainWaitMs = 5_000

/** One connection to NATS, shared by publishing, every consumer and every reply inbox. */
export class NatsTransport implements Transport {
  private readonly names: NatsNames
  private readonly topology: NatsTopology
  private readonly publisher: NatsPublisher
  private readonly consumers = new Set<NatsConsumer>()
  private readonly inboxes = new Set<NatsInbox>()
  private closed = false
  readonly admin: NatsAdmin

  constructor(
    private readonly connection: NatsConnection,
    private readonly client: JetStreamClient,
    private readonly manager: JetStreamManager,
    private readonly settings: NatsSettings,
    readonly capabilities: Capabilities,
    private readonly logger: Logger,
  ) {
    this.names = new NatsNames(settings.prefix)
    this.topology = new NatsTopology(manager, this.names, settings)
    this.publisher = new NatsPublisher(connection, client, this.names, this.topology)
    this.admin = new NatsAdmin({ manager, names: this.names, topology: this.topology, assertOpen: () => this.assertOpen() })
  }

  async publish(destination: Destination, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    this.assertOpen()
    if (signal?.aborted) throw new AbortedError(`publishing to ${describeDestination(destination)}`, { adapter: 'nats' })
    await this.publisher.publish(destination, messages)
  }

  async consume(source: Source, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<TransportConsumer> {
    this.assertOpen()
    const ackWaitMs = options.leaseMs ?? this.settings.ackWaitMs
    const ephemeralName = `ephemeral-${randomUUID()}`
    const ensureTarget = () =>
      source.kind === 'queue'
        ? this.topology.queueConsumer(source.queue, ackWaitMs)
        : this.topology.subscriptionConsumer(source.subscription, ackWaitMs, ephemeralName)
    const target = await ensureTarget()
    const filter = source.kind === 'subscription' ? source.subscription.filter : undefined
    const consumer = new NatsConsumer(
      {
        connection: this.connection,
        client: this.client,
        topology: this.topology,
        publisher: this.publisher,
        logger: this.logger,
        fetchExpiresMs: this.settings.fetchExpiresMs,
        recreateConsumer: async () => {
          this.topology.forget(target.stream)
          return (await ensureTarget()).created
        },
      },
      target,
      filter,
      ackWaitMs,
      options,
      deliver,
    )
    await consumer.start()
    this.consumers.add(consumer)
    return {
      stop: () => consumer.stop(),
      close: async () => {
        this.consumers.delete(consumer)
        await consumer.close()
      },
    }
  }

  async openInbox(_options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<Inbox> {
    this.assertOpen()
    const inbox = new NatsInbox(this.connection, deliver)
    // The subscription is registered with the server before a request can name it in replyTo.
    await this.connection.flush().catch((error: unknown) => {
      throw connectionError('opening a reply inbox', error)
    })
    this.inboxes.add(inbox)
    return {
      address: inbox.address,
      close: async () => {
        this.inboxes.delete(inbox)
        await inbox.close()
      },
    }
  }

  /** Reads stored messages in stream order without taking them; a work-queue stream has holes where messages were acknowledged. */
  async peek(queue: QueueSpec, limit: number): Promise<IncomingMessage[]> {
    this.assertOpen()
    if (!(await this.topology.hasQueue(queue.name))) return []
    const stream = this.names.queueStream(queue.name)
    try {
      const info = await this.manager.streams.info(stream)
      const result: IncomingMessage[] = []
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && result.length < limit && info.state.messages > 0; seq++) {
        const stored = await this.manager.streams.getMessage(stream, { seq }).catch((error: unknown) => {
          if (isNotFound(error)) return null
          throw error
        })
        if (stored) result.push(decodeMessage(stored.data, stored.header, stored.time.getTime(), 0).message)
      }
      return result
    } catch (error) {
      throw connectionError(`peeking into queue '${queue.name}'`, error)
    }
  }

  async move(from: QueueSpec, to: Destination, limit: number, prepare: (message: IncomingMessage) => OutgoingMessage): Promise<number> {
    this.assertOpen()
    if (!(await this.topology.hasQueue(from.name))) return 0
    const target = await this.topology.queueConsumer(from, this.settings.ackWaitMs)
    let moved = 0
    // Only what was there when the move began: a redriven message that fails again and comes back is not moved twice.
    const startedAt = Date.now()
    try {
      const handle = await this.client.consumers.get(target.stream, target.consumer)
      let reachedLater = false
      while (moved < limit && !reachedLater) {
        // Asks only for what is waiting, so the last pull does not sit out its expiry.
        const waiting = (await handle.info()).num_pending
        if (waiting === 0) break
        const batch = await handle.fetch({ max_messages: Math.min(moveBatch, limit - moved, waiting), expires: 1000 })
        let received = 0
        for await (const raw of batch) {
          received++
          const storedAt = Math.floor(Number(raw.info.timestampNanos) / 1_000_000)
          if (reachedLater || storedAt >= startedAt) {
            reachedLater = true
            raw.nak()
            continue
          }
          const { message } = decodeMessage(raw.data, raw.headers, storedAt, 0)
          await this.publisher.publish(to, [prepare(message)])
          // Removed from the source only once the destination has it.
          await raw.ackAck()
          moved++
        }
        if (received === 0) break
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
    await Promise.allSettled([...this.inboxes].map((inbox) => inbox.close()))
    this.consumers.clear()
    this.inboxes.clear()
    // A server that took the connection and stopped answering never completes a drain (its flush waits
    // for a PONG): past drainWaitMs the connection is closed instead, as after a failed drain.
    const draining = this.connection.drain()
    if (await settlesWithin(draining, drainWaitMs)) {
      await draining.catch(() => this.connection.close().catch(() => {}))
      return
    }
    this.logger.warn(`closing: the NATS server did not answer the drain within ${drainWaitMs} ms, so the connection was closed without it`)
    await this.connection.close().catch(() => {})
  }

  async terminate(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // Stops the loops without settling anything; the server redelivers after AckWait.
    for (const consumer of this.consumers) void consumer.stop().catch(() => {})
    this.consumers.clear()
    await this.connection.close().catch(() => {})
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('the NATS connection', { adapter: 'nats' })
  }
}
