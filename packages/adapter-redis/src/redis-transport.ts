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
  type Transport,
  type TransportConsumeOptions,
  type TransportConsumer,
} from '@anymq/core/spi'
import { RedisAdmin } from './redis-admin.js'
import type { RedisSettings } from './redis-config.js'
import { type ConsumerSource, RedisConsumer } from './redis-consumer.js'
import { DelayMovers } from './redis-delay-movers.js'
import type { RedisConnection, RedisDriver } from './redis-driver.js'
import { connectionError } from './redis-errors.js'
import { RedisInbox } from './redis-inbox.js'
import { RedisKeys } from './redis-keys.js'
import { isTurn } from './redis-priority.js'
import { RedisPublisher, type Write } from './redis-publisher.js'
import { type ReplyPubSub, replyPubSubOf } from './redis-reply-pubsub.js'
import { RedisScripts } from './redis-scripts.js'
import { memberFields, type RawEntry, readEntry } from './redis-wire.js'

/** How often topic streams are trimmed (and abandoned ephemeral groups reaped). */
const trimIntervalMs = 5000
/** An ephemeral group whose consumers have all been silent this long belongs to a crashed process. */
const ephemeralIdleLimitMs = 10 * 60_000
/** One connection to Redis: a command connection shared by publishing and settling, plus one per consumer. */
export class RedisTransport implements Transport {
  private readonly keys: RedisKeys
  private readonly publisher: RedisPublisher
  private readonly consumers = new Set<RedisConsumer>()
  private readonly inboxes = new Set<RedisInbox>()
  private readonly delayMovers: DelayMovers
  private readonly topics = new Set<string>()
  private readonly scripts: RedisScripts
  private trimTimer: NodeJS.Timeout | undefined
  private closed = false
  /** Asked once, by the first reply sent or inbox opened; a failed question is asked again. */
  private replyPubSub: Promise<ReplyPubSub> | undefined
  readonly admin: RedisAdmin

  constructor(
    private readonly driver: RedisDriver,
    private readonly commands: RedisConnection,
    private readonly settings: RedisSettings,
    readonly capabilities: Capabilities,
    private readonly logger: Logger,
  ) {
    this.keys = new RedisKeys(settings.prefix)
    this.scripts = new RedisScripts(commands)
    this.delayMovers = new DelayMovers(this.scripts, settings.delayPollMs, logger)
    this.publisher = new RedisPublisher(
      commands,
      this.keys,
      (stream) => this.noteTopic(stream),
      () => this.replyPubSubOfServer(),
      settings,
    )
    this.admin = new RedisAdmin({
      commands,
      keys: this.keys,
      defaultLeaseMs: settings.defaultLeaseMs,
      assertOpen: () => this.assertOpen(),
      forgetTopic: (stream) => this.topics.delete(stream),
    })
  }

  /** Not `async`, to save a promise per send; every failure, a closed transport's included, is a rejection. */
  publish(destination: Destination, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    try {
      this.assertOpen()
      if (signal?.aborted) throw new AbortedError(`publishing to ${describeDestination(destination)}`, { adapter: 'redis' })
      return this.publisher.publish(destination, messages)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async consume(source: Source, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<TransportConsumer> {
    this.assertOpen()
    const consumer = new RedisConsumer(
      {
        settings: this.settings,
        driver: this.driver,
        commands: this.commands,
        scripts: this.scripts,
        logger: this.logger,
        retainMover: (delayed, stream, priority) => this.delayMovers.retain(delayed, stream, priority),
      },
      this.consumerSource(source),
      options,
      deliver,
    )
    this.consumers.add(consumer)
    try {
      await consumer.start()
    } catch (error) {
      this.consumers.delete(consumer)
      consumer.kill()
      throw error
    }
    if (source.kind === 'subscription') this.noteTopic(this.keys.topic(source.subscription.topic))
    return {
      stop: () => consumer.stop(),
      close: async () => {
        await consumer.close()
        this.consumers.delete(consumer)
      },
    }
  }

  async openInbox(options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<Inbox> {
    this.assertOpen()
    const inbox = new RedisInbox(
      this.settings,
      this.driver,
      this.keys,
      this.commands,
      () => this.replyPubSubOfServer(),
      this.logger,
      options,
      deliver,
      () => this.inboxes.delete(inbox),
    )
    this.inboxes.add(inbox)
    try {
      await inbox.start()
    } catch (error) {
      this.inboxes.delete(inbox)
      inbox.kill()
      throw error
    }
    return inbox
  }

  private replyPubSubOfServer(): Promise<ReplyPubSub> {
    if (this.replyPubSub === undefined) {
      const asking = replyPubSubOf(this.commands)
      this.replyPubSub = asking
      asking.catch(() => {
        if (this.replyPubSub === asking) this.replyPubSub = undefined
      })
    }
    return this.replyPubSub
  }

  async peek(queue: QueueSpec, limit: number): Promise<IncomingMessage[]> {
    this.assertOpen()
    const stream = this.keys.queue(queue.name)
    const count = Math.max(1, Math.min(limit, 10_000))
    try {
      const entries = (await this.commands.call(['XRANGE', stream, '-', '+', 'COUNT', count], { binary: true })) as RawEntry[]
      const messages = entries.filter((raw) => !isTurn(raw)).map((raw) => readEntry(stream, raw, 1).message)
      if (queue.maxPriority === undefined || messages.length >= count) return messages
      // A priority queue's messages wait in its waiting set, highest priority first; its stream holds turns.
      const waiting = (await this.commands.call(['ZRANGE', this.keys.queueWaiting(queue.name), 0, count - messages.length - 1], { binary: true })) as Buffer[]
      return [...messages, ...waiting.map((member) => readEntry(stream, ['waiting', memberFields(member)], 1).message)]
    } catch (error) {
      throw connectionError(`peeking at queue '${queue.name}'`, error)
    }
  }

  /**
   * Moves entries in batches: each batch is one MULTI/EXEC that writes the copies and deletes the
   * originals (XACK + XDEL), so an entry is never lost nor left in both places.
   */
  async move(from: QueueSpec, to: Destination, limit: number, prepare: (message: IncomingMessage) => OutgoingMessage): Promise<number> {
    this.assertOpen()
    const stream = this.keys.queue(from.name)
    let moved = 0
    let start = '-'
    while (moved < limit) {
      let entries: RawEntry[]
      try {
        entries = (await this.commands.call(['XRANGE', stream, start, '+', 'COUNT', Math.min(100, limit - moved)], { binary: true })) as RawEntry[]
      } catch (error) {
        throw connectionError(`reading queue '${from.name}'`, error)
      }
      if (entries.length === 0) break
      const writes: Write[] = []
      const ids: string[] = []
      for (const raw of entries) {
        // Turns of a priority queue are not messages; they stay for its consumers.
        if (isTurn(raw)) continue
        const { message, entry } = readEntry(stream, raw, 1)
        writes.push(...this.publisher.writesFor(to, prepare(message)))
        ids.push(entry.entryId)
      }
      start = `(${(entries[entries.length - 1] as RawEntry)[0].toString()}`
      if (ids.length === 0) continue
      writes.push(['XACK', stream, RedisKeys.queueGroup, ...ids], ['XDEL', stream, ...ids])
      await this.publisher.apply(writes, to, ids.length)
      moved += ids.length
    }
    if (to.kind === 'topic' || to.kind === 'subscription') this.noteTopic(this.keys.topic(to.kind === 'topic' ? to.topic : to.subscription.topic))
    return moved
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.trimTimer)
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.close()))
    await Promise.allSettled([...this.inboxes].map((inbox) => inbox.close()))
    this.consumers.clear()
    this.delayMovers.close()
    await this.commands.close()
  }

  async terminate(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.trimTimer)
    for (const consumer of this.consumers) consumer.kill()
    for (const inbox of this.inboxes) inbox.kill()
    this.delayMovers.close()
    this.commands.terminate()
  }

  private consumerSource(source: Source): ConsumerSource {
    if (source.kind === 'queue') {
      const name = source.queue.name
      return {
        stream: this.keys.queue(name),
        group: RedisKeys.queueGroup,
        delayed: this.keys.queueDelayed(name),
        startAt: '0',
        deleteAcked: true,
        addressed: false,
        filter: undefined,
        ephemeral: false,
        activeLock: source.queue.ordered ? this.keys.queueActive(name) : undefined,
        priority: source.queue.maxPriority !== undefined,
        label: `queue '${name}'`,
      }
    }
    const { topic, name, filter, startFrom } = source.subscription
    const group = name ?? `${RedisKeys.ephemeralGroupPrefix}${randomUUID()}`
    return {
      stream: this.keys.topic(topic),
      group,
      delayed: this.keys.subscriptionDelayed(topic, group),
      startAt: startFrom === 'earliest' ? '0' : '$',
      deleteAcked: false,
      addressed: true,
      filter,
      ephemeral: name === undefined,
      activeLock: undefined,
      priority: false,
      label: `subscription '${name ?? '(ephemeral)'}' of topic '${topic}'`,
    }
  }

  private noteTopic(stream: string): void {
    if (this.closed || this.topics.has(stream)) return
    this.topics.add(stream)
    if (this.trimTimer === undefined) this.scheduleTrim()
  }

  private scheduleTrim(): void {
    this.trimTimer = setTimeout(() => {
      const cutoff = `${Math.max(0, Date.now() - this.settings.topicRetentionMs)}-0`
      void Promise.allSettled(
        [...this.topics].map((stream) => this.scripts.trimTopic(stream, cutoff, RedisKeys.ephemeralGroupPrefix, ephemeralIdleLimitMs)),
      ).then((results) => {
        for (const result of results) if (result.status === 'rejected') this.logger.debug(connectionError('trimming a topic', result.reason).message)
        if (!this.closed) this.scheduleTrim()
      })
    }, trimIntervalMs)
    this.trimTimer.unref()
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('the redis connection', { adapter: 'redis' })
  }
}
