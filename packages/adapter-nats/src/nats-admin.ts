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
import { type ConsumerInfo, DeliverPolicy, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream'
import { connectionError } from './nats-errors.js'
import { type NatsNames, queueConsumer, unescapeName } from './nats-names.js'
import { isNotFound, type NatsTopology } from './nats-topology.js'
import { decodeMessage } from './nats-wire.js'

/** What the admin calls borrow from the transport. */
export interface NatsAdminContext {
  manager: JetStreamManager
  names: NatsNames
  topology: NatsTopology
  assertOpen(): void
}

/** The stream and durable consumer behind a queue or a named subscription. */
interface Located {
  stream: string
  consumer: string
  /** A subscription's own subject (its retries and redrives) on the shared topic stream. */
  ownSubject: string | undefined
}

/**
 * Stats, purge, delete, list and dead letters by id from JetStream's stream and consumer info. A
 * queue is a work-queue stream read by the durable consumer `anymq`; a subscription is a durable
 * consumer on its topic's stream. Counts are the consumer's: `num_pending` (not yet delivered),
 * `num_ack_pending` (delivered, unsettled) and `num_waiting` (pull requests waiting, one per running
 * instance with free capacity).
 */
export class NatsAdmin implements TransportAdmin {
  constructor(private readonly context: NatsAdminContext) {}

  async stats(source: Source): Promise<BrokerStats> {
    this.context.assertOpen()
    const { stream, consumer } = this.locate(source)
    return this.call(`reading stats of ${describeDestination(source)}`, async () => {
      const streamInfo = await this.streamInfo(stream)
      if (!streamInfo) return { ready: 0, inFlight: 0, consumers: 0, oldestAgeMs: undefined }
      const info = await this.consumerInfo(stream, consumer)
      if (!info) {
        // Never consumed: a queue's stream holds only waiting messages; a subscription not made yet has none.
        if (source.kind !== 'queue') return { ready: 0, inFlight: 0, consumers: 0, oldestAgeMs: undefined }
        const { messages, first_ts } = streamInfo.state
        return { ready: messages, inFlight: 0, consumers: 0, oldestAgeMs: messages === 0 ? undefined : age(Date.parse(first_ts)) }
      }
      // An ordered queue's delayed messages and retries wait in a stream of their own: counted as waiting after a NAK, as elsewhere.
      const delayed = source.kind === 'queue' ? ((await this.streamInfo(this.context.names.delayStream(source.queue.name)))?.state.messages ?? 0) : 0
      return {
        ready: info.num_pending,
        inFlight: info.num_ack_pending + delayed,
        consumers: info.num_waiting,
        oldestAgeMs: info.num_pending === 0 ? undefined : await this.nextAge(stream, Math.max(info.delivered.stream_seq + 1, streamInfo.state.first_seq)),
      }
    })
  }

  async purge(source: Source): Promise<void> {
    this.context.assertOpen()
    const { stream, consumer, ownSubject } = this.locate(source)
    await this.call(`purging ${describeDestination(source)}`, async () => {
      if (!(await this.streamInfo(stream))) return
      if (ownSubject === undefined) {
        // A queue's stream is the queue: purging it removes the waiting messages (and unsettled ones, whose settlement then does nothing).
        await this.context.manager.streams.purge(stream)
        // An ordered queue's delayed messages and retries wait in a stream of their own.
        if (source.kind === 'queue') await this.purgeDelays(source.queue.name)
        return
      }
      // The topic stream is shared: this subscription's consumer starts again after the last message, and its own retries go.
      const info = await this.consumerInfo(stream, consumer)
      if (!info) return
      await this.context.manager.consumers.delete(stream, consumer)
      const { opt_start_seq: _seq, opt_start_time: _time, ...config } = info.config
      await this.context.manager.consumers.add(stream, { ...config, deliver_policy: DeliverPolicy.New })
      await this.deleteAddressed(stream, ownSubject)
    })
  }

  async remove(target: AdminTarget): Promise<void> {
    this.context.assertOpen()
    const { manager, names, topology } = this.context
    await this.call(`deleting ${describeDestination(target)}`, async () => {
      if (target.kind === 'subscription') {
        const { stream, consumer, ownSubject } = this.locate(target)
        if (!(await this.streamInfo(stream))) return
        await topology.deleteConsumer(stream, consumer)
        if (ownSubject !== undefined) await this.deleteAddressed(stream, ownSubject)
        return
      }
      const stream = target.kind === 'queue' ? names.queueStream(target.queue.name) : names.topicStream(target.topic)
      const streams = target.kind === 'queue' ? [stream, names.delayStream(target.queue.name)] : [stream]
      for (const each of streams) {
        await manager.streams.delete(each).catch((error: unknown) => {
          if (!isNotFound(error)) throw error
        })
        topology.forget(each)
      }
    })
  }

  async list(prefix: string): Promise<ListedDestination[]> {
    this.context.assertOpen()
    const { manager, names } = this.context
    return this.call('listing queues and topics', async () => {
      const found: ListedDestination[] = []
      for await (const stream of manager.streams.names()) {
        if (stream.startsWith(names.queueStreamPrefix)) {
          const name = unescapeName(stream.slice(names.queueStreamPrefix.length))
          if (name.startsWith(prefix)) found.push({ kind: 'queue', name })
        } else if (stream.startsWith(names.topicStreamPrefix)) {
          const topic = unescapeName(stream.slice(names.topicStreamPrefix.length))
          if (!topic.startsWith(prefix)) continue
          found.push({ kind: 'topic', name: topic })
          // Ephemeral subscribers' consumers have no durable name.
          for await (const consumer of manager.consumers.list(stream)) {
            const durable = consumer.config.durable_name
            if (durable) found.push({ kind: 'subscription', name: unescapeName(durable), topic })
          }
        }
      }
      return found
    })
  }

  async takeById(queue: QueueSpec, id: string, handle: (message: IncomingMessage) => Promise<void>): Promise<boolean> {
    this.context.assertOpen()
    const stream = this.context.names.queueStream(queue.name)
    const found = await this.call(`finding message '${id}' in queue '${queue.name}'`, async () => {
      const info = await this.streamInfo(stream)
      if (!info || info.state.messages === 0) return undefined
      // A work-queue stream has holes where messages were acknowledged: read it sequence by sequence.
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const stored = await this.context.manager.streams.getMessage(stream, { seq }).catch(nullWhenNotFound)
        if (!stored) continue
        const { message } = decodeMessage(stored.data, stored.header, stored.time.getTime(), 0)
        if (message.id === id) return { seq, message }
      }
      return undefined
    })
    if (!found) return false
    await handle(found.message)
    await this.call(`removing message '${id}' from queue '${queue.name}'`, () => this.context.manager.streams.deleteMessage(stream, found.seq, false))
    return true
  }

  private locate(source: Source): Located {
    const { names } = this.context
    if (source.kind === 'queue') return { stream: names.queueStream(source.queue.name), consumer: queueConsumer, ownSubject: undefined }
    const { topic, name } = source.subscription
    if (name === undefined) throw new UnsupportedFeatureError('nats', 'admin calls on an ephemeral subscription', 'name the subscription')
    const consumer = names.subscriptionConsumer(name)
    return { stream: names.topicStream(topic), consumer, ownSubject: names.subscriptionSubject(topic, consumer) }
  }

  /**
   * Deletes the messages addressed to one subscription, one by one. Not a purge with a subject filter:
   * nats-server 2.9 moves every other consumer of the stream past its pending messages on such a purge
   * (seen on 2.9.10, even when nothing matched).
   */
  private async deleteAddressed(stream: string, subject: string): Promise<void> {
    const { manager } = this.context
    let seq = 1
    for (;;) {
      // `next_by_subj` is in the server's API since 2.9, not in the client's type for it.
      const query = { seq, next_by_subj: subject } as unknown as { seq: number }
      const stored = await manager.streams.getMessage(stream, query).catch(nullWhenNotFound)
      if (!stored) return
      await manager.streams.deleteMessage(stream, stored.seq, false)
      seq = stored.seq + 1
    }
  }

  /** Age of the first message at or after `seq` (a topic's oldest is trimmed by max age, so the first one asked for may be gone). */
  private async nextAge(stream: string, seq: number): Promise<number | undefined> {
    const stored = await this.context.manager.streams.getMessage(stream, { seq }).catch(nullWhenNotFound)
    return stored ? age(stored.time.getTime()) : undefined
  }

  private async purgeDelays(queue: string): Promise<void> {
    const stream = this.context.names.delayStream(queue)
    if (await this.streamInfo(stream)) await this.context.manager.streams.purge(stream)
  }

  private async streamInfo(stream: string): Promise<StreamInfo | undefined> {
    return this.context.manager.streams.info(stream).catch((error: unknown) => {
      if (isNotFound(error)) return undefined
      throw error
    })
  }

  private async consumerInfo(stream: string, consumer: string): Promise<ConsumerInfo | undefined> {
    return this.context.manager.consumers.info(stream, consumer).catch((error: unknown) => {
      if (isNotFound(error)) return undefined
      throw error
    })
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw connectionError(what, error)
    }
  }
}

function nullWhenNotFound(error: unknown): null {
  if (isNotFound(error)) return null
  throw error
}

function age(at: number): number {
  return Math.max(0, Date.now() - at)
}
