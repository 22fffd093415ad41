import { ConfigError, type QueueSpec, type SubscriptionSpec } from '@anymq/core/spi'
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream'
import type { NatsSettings } from './nats-config.js'
import { connectionError } from './nats-errors.js'
import { escapeName, type NatsNames, queueConsumer } from './nats-names.js'

/** Where a consumer pulls from and where its retries go. */
export interface ConsumerTarget {
  stream: string
  consumer: string
  /** Subject a retry of one of its messages is republished to (only this consumer reads it again). */
  retrySubject: string
  /** On a topic stream: messages addressed `.to.<other>` are for another subscription. */
  ownSubject: string | undefined
  ephemeral: boolean
  /** Whether the consumer had to be created (the server did not have it). */
  created: boolean
  /** On an `ordered` queue: where its messages that must wait go, retries included (see {@link NatsNames.delayStream}). */
  delays: DelayTarget | undefined
  /** On a topic stream: the longest a retry may wait, since the stream drops messages older than `topicMaxAgeMs`. */
  longestRetryDelayMs: number | undefined
}

/** The stream, consumer and subject where an `ordered` queue's messages wait until due. */
export interface DelayTarget {
  stream: string
  consumer: string
  subject: string
}

/** Room left between a topic retry's due time and the stream's max age, for the consumer to take it in time. */
const maxAgeMarginMs = 60_000

/** An ephemeral subscription's consumer left behind by a crashed process disappears after this. */
const ephemeralInactiveMs = 60_000
/** Unsettled messages of one consumer across all its instances; `ordered` queues allow one. */
const maxAckPending = 20_000

const nanos = (ms: number) => ms * 1_000_000

/**
 * Creates streams and consumers on first use and remembers them for the connection. A queue is a
 * work-queue stream (a message is removed once acknowledged) with one durable pull consumer that
 * every instance shares; a topic is a limits stream that keeps messages for `topicMaxAgeMs`, read by
 * one durable consumer per named subscription and an ephemeral one per unnamed subscriber.
 */
export class NatsTopology {
  private readonly streams = new Map<string, Promise<void>>()

  constructor(
    private readonly manager: JetStreamManager,
    private readonly names: NatsNames,
    private readonly settings: NatsSettings,
  ) {}

  ensureQueue(queue: string): Promise<string> {
    const stream = this.names.queueStream(queue)
    return this.ensureStream(stream, {
      subjects: [this.names.queueSubject(queue)],
      retention: RetentionPolicy.Workqueue,
    }).then(() => stream)
  }

  ensureTopic(topic: string): Promise<string> {
    const stream = this.names.topicStream(topic)
    return this.ensureStream(stream, {
      subjects: [this.names.topicSubjects(topic)],
      retention: RetentionPolicy.Limits,
      max_age: nanos(this.settings.topicMaxAgeMs),
    }).then(() => stream)
  }

  /** The stream where an `ordered` queue's messages wait until due (a work queue, like the queue's own). */
  ensureDelayStream(queue: string): Promise<string> {
    const stream = this.names.delayStream(queue)
    return this.ensureStream(stream, { subjects: [this.names.delaySubject(queue)], retention: RetentionPolicy.Workqueue }).then(() => stream)
  }

  /**
   * That stream and its one durable consumer, with no limit of one unsettled message. Its AckWait is
   * the connection's (not a consumer's `leaseMs`): a waiting message is put back or moved at once.
   */
  async ensureDelays(queue: string): Promise<DelayTarget> {
    const stream = await this.ensureDelayStream(queue)
    await this.ensureConsumer(stream, {
      durable_name: queueConsumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.settings.ackWaitMs),
      max_deliver: -1,
      max_ack_pending: maxAckPending,
    })
    return { stream, consumer: queueConsumer, subject: this.names.delaySubject(queue) }
  }

  /** Whether the stream of a queue exists (peek and move on a queue never used return nothing). */
  async hasQueue(queue: string): Promise<boolean> {
    try {
      await this.manager.streams.info(this.names.queueStream(queue))
      return true
    } catch (error) {
      if (isNotFound(error)) return false
      throw connectionError(`reading stream of queue '${queue}'`, error)
    }
  }

  async queueConsumer(spec: QueueSpec, ackWaitMs: number): Promise<ConsumerTarget> {
    const stream = await this.ensureQueue(spec.name)
    const created = await this.ensureConsumer(stream, {
      durable_name: queueConsumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ackWaitMs),
      max_deliver: -1,
      // One unsettled message across every instance keeps the queue, and so each key, in order.
      max_ack_pending: spec.ordered ? 1 : maxAckPending,
    })
    const delays = spec.ordered ? await this.ensureDelays(spec.name) : undefined
    return {
      stream,
      consumer: queueConsumer,
      retrySubject: this.names.queueSubject(spec.name),
      delays,
      ownSubject: undefined,
      ephemeral: false,
      created,
      longestRetryDelayMs: undefined,
    }
  }

  async subscriptionConsumer(spec: SubscriptionSpec, ackWaitMs: number, ephemeralName: string): Promise<ConsumerTarget> {
    const stream = await this.ensureTopic(spec.topic)
    const ephemeral = spec.name === undefined
    const consumer = ephemeral ? ephemeralName : this.names.subscriptionConsumer(spec.name as string)
    const config: Partial<ConsumerConfig> = {
      ack_policy: AckPolicy.Explicit,
      deliver_policy: spec.startFrom === 'earliest' ? DeliverPolicy.All : DeliverPolicy.New,
      ack_wait: nanos(ackWaitMs),
      max_deliver: -1,
      max_ack_pending: maxAckPending,
    }
    if (ephemeral) Object.assign(config, { name: consumer, inactive_threshold: nanos(ephemeralInactiveMs) })
    else config.durable_name = consumer
    const created = await this.ensureConsumer(stream, config)
    const ownSubject = this.names.subscriptionSubject(spec.topic, consumer)
    const maxAgeMs = this.settings.topicMaxAgeMs
    const longestRetryDelayMs = maxAgeMs - Math.min(maxAgeMs / 2, maxAgeMarginMs)
    return { stream, consumer, retrySubject: ownSubject, delays: undefined, ownSubject, ephemeral, created, longestRetryDelayMs }
  }

  /** The subject that reaches one named subscription only (retries, redrive). */
  subscriptionSubject(spec: SubscriptionSpec): string {
    if (spec.name === undefined) {
      throw new ConfigError([{ field: 'subscription', message: 'an ephemeral subscription cannot be addressed directly' }], { adapter: 'nats' })
    }
    return this.names.subscriptionSubject(spec.topic, escapeName(spec.name))
  }

  async deleteConsumer(stream: string, consumer: string): Promise<void> {
    try {
      await this.manager.consumers.delete(stream, consumer)
    } catch (error) {
      if (!isNotFound(error)) throw connectionError(`deleting consumer '${consumer}'`, error)
    }
  }

  /** Forgets what was created, so it is checked again (after the server lost a memory stream). */
  forget(stream: string): void {
    this.streams.delete(stream)
  }

  private ensureStream(name: string, config: Partial<StreamConfig>): Promise<void> {
    let pending = this.streams.get(name)
    if (!pending) {
      pending = this.createStream(name, config)
      pending.catch(() => this.streams.delete(name))
      this.streams.set(name, pending)
    }
    return pending
  }

  private async createStream(name: string, config: Partial<StreamConfig>): Promise<void> {
    try {
      await this.manager.streams.info(name)
      return
    } catch (error) {
      if (!isNotFound(error)) throw connectionError(`reading stream '${name}'`, error)
    }
    try {
      await this.manager.streams.add({
        name,
        storage: this.settings.storage === 'memory' ? StorageType.Memory : StorageType.File,
        num_replicas: this.settings.replicas,
        ...config,
      })
    } catch (error) {
      // Another instance created it first: fine when it has the same settings, which info confirms.
      if (!/already in use/i.test(String((error as Error).message))) throw connectionError(`creating stream '${name}'`, error)
    }
  }

  /** Creates the consumer, or updates its lease and ordering; whether it had to be created. */
  private async ensureConsumer(stream: string, config: Partial<ConsumerConfig>): Promise<boolean> {
    const name = (config.durable_name ?? config.name) as string
    try {
      const info = await this.manager.consumers.info(stream, name)
      // A lease or an ordering the running instances did not ask for: the latest consume wins.
      if (info.config.ack_wait !== config.ack_wait || info.config.max_ack_pending !== config.max_ack_pending) {
        await this.manager.consumers.update(stream, name, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending })
      }
      return false
    } catch (error) {
      if (!isNotFound(error)) throw connectionError(`reading consumer '${name}' of stream '${stream}'`, error)
    }
    try {
      await this.manager.consumers.add(stream, config)
      return true
    } catch (error) {
      throw connectionError(`creating consumer '${name}' of stream '${stream}'`, error)
    }
  }
}

export function isNotFound(error: unknown): boolean {
  if (error instanceof JetStreamApiError) {
    return error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound || error.status === 404
  }
  return /not found/i.test(String((error as Error)?.message))
}
