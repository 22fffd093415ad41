import {
  AbortedError,
  AnymqError,
  abortable,
  type Capabilities,
  ClosedError,
  ConfigError,
  type Delivery,
  type Destination,
  describeDestination,
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
import type { Channel, GetMessage } from 'amqplib'
import { RabbitAdmin } from './rabbitmq-admin.js'
import type { RabbitmqConfig } from './rabbitmq-config.js'
import { RabbitConnection, retryWhileReconnecting } from './rabbitmq-connection.js'
import { type ConsumerSource, RabbitConsumer } from './rabbitmq-consumer.js'
import { adapterName, connectionError, isVanishedDestination } from './rabbitmq-errors.js'
import { type PublishMode, publishOptions, toIncoming } from './rabbitmq-message.js'
import { type Outbound, RabbitPublisher } from './rabbitmq-publisher.js'
import { type TopicBinding, TopicBindings } from './rabbitmq-topic-bindings.js'
import { names, RabbitTopology } from './rabbitmq-topology.js'

/** Messages fetched per round trip when moving dead letters. */
const moveBatch = 100

/** One connection to RabbitMQ: a publisher, a topology declarer and any number of consumers. */
export class RabbitTransport implements Transport {
  private readonly publisher: RabbitPublisher
  private readonly topology: RabbitTopology
  private readonly topicBindings: TopicBindings
  private readonly consumers = new Set<RabbitConsumer>()
  /**
   * A second connection, opened on first use, for basic.get (peek, move). RabbitMQ 3.10 answers a
   * basic.get on a quorum queue whose leader is still starting with a connection-level error; on the
   * shared connection that dropped every consumer with it and redelivered what they held.
   */
  private browsing: Promise<RabbitConnection> | undefined
  private closed = false
  readonly admin: RabbitAdmin
  /** To a queue: persistent, and mandatory so that a queue deleted behind our back fails the send. */
  private readonly toQueueMode: PublishMode
  private readonly toTopicMode: PublishMode
  private readonly toInboxMode: PublishMode

  constructor(
    private readonly connection: RabbitConnection,
    private readonly config: RabbitmqConfig,
    private readonly logger: Logger,
  ) {
    this.publisher = new RabbitPublisher(connection, logger)
    const millisecondTimestamps = config.timestampPrecision === 'milliseconds'
    this.toQueueMode = { persistent: true, mandatory: true, millisecondTimestamps }
    this.toTopicMode = { persistent: true, mandatory: false, millisecondTimestamps }
    this.toInboxMode = { persistent: false, mandatory: false, millisecondTimestamps }
    this.topicBindings = new TopicBindings((groups) => this.topology.rebind(groups), config.bindingCheckMs)
    this.topology = new RabbitTopology(connection, config, logger, (topic) => this.topicBindings.of(topic))
    this.admin = new RabbitAdmin({
      topology: this.topology,
      assertOpen: () => this.assertOpen(),
      browse: async (what, work) => this.withChannel(what, await this.browsingConnection(), work),
    })
  }

  get capabilities(): Capabilities {
    return this.config.capabilities
  }

  async publish(destination: Destination, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    this.assertOpen()
    if (signal?.aborted) throw new AbortedError('the publish', { adapter: adapterName })
    if (messages.length === 0) return
    const where = describeDestination(destination)
    try {
      await this.publishOnce(destination, messages, where, signal)
    } catch (error) {
      // A queue or topic deleted behind this connection's back (another process's delete()): declared
      // again and published once more. The broker stored none of the messages it refused so.
      if (!isVanishedDestination(error) || signal?.aborted || (destination.kind !== 'queue' && destination.kind !== 'topic')) throw error
      await this.publishOnce(destination, messages, where, signal)
    }
  }

  private async publishOnce(destination: Destination, messages: readonly OutgoingMessage[], where: string, signal: AbortSignal | undefined): Promise<void> {
    let outbound: Outbound[]
    switch (destination.kind) {
      case 'queue': {
        const queue =
          this.topology.declaredQueue(destination.queue) ?? (await abortable(this.topology.queue(destination.queue), signal, 'the publish', adapterName))
        const built = this.toQueue(queue, messages, where)
        outbound = Array.isArray(built) ? built : await built
        break
      }
      case 'subscription': {
        const spec = destination.subscription
        if (spec.name === undefined) throw new ConfigError('an ephemeral subscription cannot be published to directly', { adapter: adapterName })
        const queue = await abortable(this.topology.subscription({ ...spec, name: spec.name }), signal, 'the publish', adapterName)
        outbound = await this.toQueue(queue, messages, where)
        break
      }
      case 'topic': {
        // The declaration is shared by every publish to the topic: an aborted one stops waiting for it, and it goes on.
        const exchange = await abortable(this.topology.topic(destination.topic), signal, 'the publish', adapterName)
        // Not mandatory: a topic nobody subscribed to drops what is published, as on every broker.
        outbound = messages.map((message) => ({
          exchange,
          routingKey: message.subject ?? '',
          content: toBuffer(message.body),
          options: publishOptions(message, this.toTopicMode),
          where,
        }))
        break
      }
      case 'inbox':
        // Not mandatory: a requester that gave up and left takes its inbox with it; the reply is dropped.
        outbound = messages.map((message) => ({
          exchange: '',
          routingKey: destination.address,
          content: toBuffer(message.body),
          options: publishOptions(message, this.toInboxMode),
          where,
        }))
        break
    }
    try {
      await this.publisher.publish(outbound, signal)
    } catch (error) {
      // The next publish declares again: a queue deleted behind our back comes back.
      if (destination.kind === 'queue') this.topology.forgetQueue(destination.queue)
      if (destination.kind === 'topic') this.topology.forgetTopic(destination.topic)
      throw error
    }
  }

  async consume(source: Source, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<TransportConsumer> {
    this.assertOpen()
    let consumerSource: ConsumerSource
    if (source.kind === 'queue') {
      const spec = source.queue
      this.topology.queueArguments(spec)
      consumerSource = {
        describe: `queue '${spec.name}'`,
        prepare: () => this.topology.queue(spec),
        forget: () => this.topology.forgetQueue(spec),
        republish: (message) => this.publish({ kind: 'queue', queue: spec }, [message]),
        singleActive: spec.ordered,
      }
    } else {
      const spec = source.subscription
      const name = spec.name
      if (name !== undefined) {
        // With `provision: false` the bindings are managed elsewhere, as the queue is.
        const binding = this.config.provision ? { spec, queue: names.subscriptionQueue(spec.topic, name), durable: true } : undefined
        consumerSource = this.keepingBound(binding, {
          describe: `subscription '${name}' of topic '${spec.topic}'`,
          prepare: () => this.topology.subscription({ ...spec, name }),
          forget: () => this.topology.forgetSubscription({ ...spec, name }),
          republish: (message) => this.publish({ kind: 'subscription', subscription: spec }, [message]),
        })
      } else {
        // The same name on every reconnection, so retries published to it still arrive.
        const queue = names.ephemeralQueue(spec.topic)
        consumerSource = this.keepingBound(
          { spec, queue, durable: false },
          {
            describe: `ephemeral subscription of topic '${spec.topic}'`,
            prepare: async () => {
              await this.topology.ephemeral(spec, queue)
              return queue
            },
            republish: async (message) => this.publisher.publish(await this.toQueue(queue, [message], `ephemeral queue '${queue}'`)),
          },
        )
      }
    }
    return this.startConsumer(consumerSource, options, deliver)
  }

  /** A subscription's binding, kept from its first successful prepare until its consumer closes (see {@link TopicBindings}). */
  private keepingBound(binding: TopicBinding | undefined, source: ConsumerSource): ConsumerSource {
    if (!binding) return source
    let release: (() => void) | undefined
    return {
      ...source,
      prepare: async () => {
        const queue = await source.prepare()
        release ??= this.topicBindings.add(binding)
        return queue
      },
      cleanup: async () => {
        release?.()
        await source.cleanup?.()
      },
    }
  }

  async openInbox(options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<Inbox> {
    this.assertOpen()
    const address = names.inbox()
    const consumer = await this.startConsumer(
      {
        describe: `reply inbox '${address}'`,
        prepare: async () => {
          await this.topology.inbox(address)
          return address
        },
        republish: async () => {},
        cleanup: async () => {
          if (!this.closed) await this.topology.deleteQueue(address)
        },
      },
      options,
      deliver,
    )
    return { address, close: () => consumer.close() }
  }

  async peek(queue: QueueSpec, limit: number): Promise<IncomingMessage[]> {
    this.assertOpen()
    if (limit <= 0) return []
    const browsing = await this.browsingConnection()
    return retryWhileReconnecting(browsing, this.config.reconnectWaitMs, () => this.peekOnce(queue, limit))
  }

  private async peekOnce(queue: QueueSpec, limit: number): Promise<IncomingMessage[]> {
    if (!(await this.topology.exists(queue.name))) return []
    return this.withChannel(`peeking at queue '${queue.name}'`, await this.browsingConnection(), async (channel) => {
      const taken: GetMessage[] = []
      try {
        while (taken.length < limit) {
          const message = await channel.get(queue.name, { noAck: false })
          if (message === false) break
          taken.push(message)
        }
      } finally {
        // One nack for all of them puts them back where they were, in their order.
        const last = taken.at(-1)
        if (last) {
          const left = (await channel.checkQueue(queue.name).catch(() => undefined))?.messageCount
          channel.nack(last, true, true)
          // A nack has no reply, and the queue takes a large one back over a while: stats() read once
          // peek() resolved counted 134 of 2,000. Waits (a second at most: a consumer of the queue may
          // take them meanwhile) until the queue counts them again.
          for (let wait = 0; left !== undefined && wait < 50; wait++) {
            const counted = await channel.checkQueue(queue.name).catch(() => undefined)
            if (counted === undefined || counted.messageCount >= left + taken.length) break
            await new Promise((resolve) => setTimeout(resolve, 20))
          }
        }
      }
      return taken.map(toIncoming)
    })
  }

  async move(from: QueueSpec, to: Destination, limit: number, prepare: (message: IncomingMessage) => OutgoingMessage): Promise<number> {
    this.assertOpen()
    if (limit <= 0 || !(await this.topology.exists(from.name))) return 0
    return this.withChannel(`moving messages from queue '${from.name}'`, await this.browsingConnection(), async (channel) => {
      let moved = 0
      while (moved < limit) {
        const batch: GetMessage[] = []
        while (batch.length < Math.min(moveBatch, limit - moved)) {
          const message = await channel.get(from.name, { noAck: false })
          if (message === false) break
          batch.push(message)
        }
        const last = batch.at(-1)
        if (!last) break
        try {
          await this.publish(
            to,
            batch.map((message) => prepare(toIncoming(message))),
          )
        } catch (error) {
          channel.nack(last, true, true)
          throw error
        }
        // Removed from the source only now that the destination confirmed every one of them.
        channel.ack(last, true)
        moved += batch.length
      }
      return moved
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.topicBindings.close()
    await this.publisher.flush()
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.close()))
    await this.closeBrowsing('close')
    await this.connection.close()
  }

  async terminate(): Promise<void> {
    this.closed = true
    this.topicBindings.close()
    void this.closeBrowsing('terminate')
    this.connection.terminate()
  }

  private async startConsumer(source: ConsumerSource, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<RabbitConsumer> {
    const consumer = new RabbitConsumer(this.connection, this.logger, source, options, deliver, this.config.reconnectWaitMs)
    await consumer.start()
    this.consumers.add(consumer)
    const close = consumer.close.bind(consumer)
    consumer.close = async () => {
      this.consumers.delete(consumer)
      await close()
    }
    return consumer
  }

  /**
   * Messages for one queue: straight through the default exchange, or through a delay queue. Without a
   * delayed message (the usual send) the list is built without an await: one promise less per send.
   */
  private toQueue(queue: string, messages: readonly OutgoingMessage[], where: string): Outbound[] | Promise<Outbound[]> {
    if (messages.some((message) => message.delayMs > 0)) return this.toQueueWithDelays(queue, messages, where)
    const outbound: Outbound[] = []
    for (const message of messages) {
      outbound.push({
        exchange: '',
        routingKey: queue,
        content: toBuffer(message.body),
        options: publishOptions(message, this.toQueueMode),
        where,
      })
    }
    return outbound
  }

  private async toQueueWithDelays(queue: string, messages: readonly OutgoingMessage[], where: string): Promise<Outbound[]> {
    const outbound: Outbound[] = []
    for (const message of messages) {
      const exchange = message.delayMs > 0 ? await this.topology.delay(message.delayMs) : ''
      outbound.push({
        exchange,
        routingKey: queue,
        content: toBuffer(message.body),
        options: publishOptions(message, this.toQueueMode),
        where,
      })
    }
    return outbound
  }

  private browsingConnection(): Promise<RabbitConnection> {
    if (!this.browsing) {
      const opening = RabbitConnection.open(this.config, this.logger)
      this.browsing = opening
      // A failed open is not kept: the next peek dials again.
      opening.catch(() => {
        if (this.browsing === opening) this.browsing = undefined
      })
    }
    return this.browsing
  }

  private async closeBrowsing(how: 'close' | 'terminate'): Promise<void> {
    const browsing = await this.browsing?.catch(() => undefined)
    this.browsing = undefined
    if (how === 'close') await browsing?.close()
    else browsing?.terminate()
  }

  private async withChannel<T>(what: string, connection: RabbitConnection, work: (channel: Channel) => Promise<T>): Promise<T> {
    const model = await connection.ready()
    let channel: Channel
    try {
      channel = await model.createChannel()
    } catch (error) {
      throw connectionError(`${what}: cannot open a channel: ${(error as Error).message}`, error)
    }
    channel.on('error', (error: Error) => this.logger.debug(`rabbitmq: ${what}: ${error.message}`))
    try {
      return await work(channel)
    } catch (error) {
      throw AnymqError.isInstance(error) ? error : connectionError(`${what}: ${(error as Error).message}`, error)
    } finally {
      await channel.close().catch(() => {})
    }
  }

  private assertOpen(): void {
    if (this.closed || this.connection.closed) throw new ClosedError('the rabbitmq connection', { adapter: adapterName })
  }
}

function toBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
}
