import { randomUUID } from 'node:crypto'
import type { Logger, QueueSpec, SubscriptionSpec } from '@anymq/core/spi'
import type { Channel, ChannelModel } from 'amqplib'
import { type QueueType, queueTypeOf, type RabbitmqConfig } from './rabbitmq-config.js'
import type { RabbitConnection } from './rabbitmq-connection.js'
import { connectionError, isNotFound, topologyError } from './rabbitmq-errors.js'
import { priorityArguments } from './rabbitmq-priority.js'
import type { TopicBinding, TopicBindingGroup } from './rabbitmq-topic-bindings.js'

/**
 * Names never chosen by users: anymq names allow only letters, digits, '.', '_' and '-', so a '~'
 * keeps the adapter's own queues and exchanges apart from every queue and topic a user can make.
 */
export const names = {
  subscriptionQueue: (topic: string, subscription: string) => `${topic}.${subscription}`,
  ephemeralQueue: (topic: string) => `${topic}~${randomUUID()}`,
  filterExchange: (queue: string) => `${queue}~filter`,
  inbox: () => `anymq~inbox.${randomUUID()}`,
  /**
   * Quorum delay queues. A new name whenever their arguments change, as RabbitMQ refuses to declare a
   * queue again with other ones: the classic `anymq~delay.<ms>` and the quorum `anymq~delay-quorum.<ms>`
   * (2-minute lease) of earlier versions keep working until empty and expire by themselves once unused.
   */
  delay: (bucketMs: number) => `anymq~delay-quorum-v2.${bucketMs}`,
}

/** Longest delay accepted; delay queues use RabbitMQ's per-queue TTL, which must fit with its x-expires in 32 bits. */
export const maxDelayMs = 7 * 24 * 3_600_000

/**
 * The delay queue a delay goes to: rounded up to 3 significant bits (8 buckets per doubling, at most
 * 12.5% later than asked, never sooner), so a few dozen queues serve every delay a program uses.
 */
export function delayBucket(delayMs: number): number {
  const ms = Math.max(1, Math.min(Math.ceil(delayMs), maxDelayMs))
  if (ms <= 16) return ms
  const step = 2 ** (Math.floor(Math.log2(ms)) - 3)
  return Math.ceil(ms / step) * step
}

/**
 * How long a delay queue outlives its last declaration. RabbitMQ deletes an expired queue with what it
 * still holds, and the lease keeps running while the broker is down. After a restart, the quorum queue's
 * dead-letter worker can find no route at first and tries again only after its
 * `dead_letter_worker_publisher_confirm_timeout` (3 minutes by default) while nothing declares the queue
 * again: a lease of minutes lost those messages. A week covers both, and an outage of days.
 */
export const delayQueueLeaseMs = 7 * 24 * 3_600_000

/** A delay queue is deleted after being unused this long: twice its TTL and a week (at most 21 days, within 32 bits). */
export function delayQueueExpiresMs(bucketMs: number): number {
  return bucketMs * 2 + delayQueueLeaseMs
}

/** How often a delay queue in use is declared again, renewing its x-expires lease (publishing does not); far inside the lease. */
const delayRefreshMs = 3_600_000

/**
 * Declares queues, exchanges and bindings, once per connection, on a channel of its own (a failed
 * declaration closes its channel; the next one opens a new one).
 */
export class RabbitTopology {
  private channel: { model: ChannelModel; channel: Promise<Channel> } | undefined
  /** `succeeded` is set once `done` resolved: a publish to a declared queue then skips the await. */
  private declared = new Map<string, { epoch: number; at: number; done: Promise<void>; succeeded: boolean }>()
  /** The declaration key of each queue handle's spec, computed once rather than on every publish. */
  private readonly queueKeys = new WeakMap<QueueSpec, string>()

  constructor(
    private readonly connection: RabbitConnection,
    private readonly config: RabbitmqConfig,
    private readonly logger: Logger,
    /** This connection's running subscriptions of a topic, bound again whenever its exchange is declared. */
    private readonly bindingsOf: (topic: string) => readonly TopicBinding[] = () => [],
  ) {}

  /** Forgets a queue's declaration, so the next publish makes it again (after the broker answered "no route"). */
  forgetQueue(spec: QueueSpec): void {
    this.declared.delete(this.queueKey(spec))
  }

  forgetTopic(topic: string): void {
    this.declared.delete(`topic:${topic}`)
  }

  forgetSubscription(spec: SubscriptionSpec & { name: string }): void {
    this.declared.delete(this.subscriptionKey(spec))
  }

  private subscriptionKey(spec: SubscriptionSpec & { name: string }): string {
    const type = queueTypeOf(spec.broker, this.config.queueType)
    return `subscription:${names.subscriptionQueue(spec.topic, spec.name)}:${type}:${JSON.stringify(spec.filter ?? {})}`
  }

  /** The declaration's arguments are part of its key: two handles that disagree both reach the broker, which refuses the second. */
  private queueKey(spec: QueueSpec): string {
    let key = this.queueKeys.get(spec)
    if (key === undefined) {
      key = `queue:${spec.name}:${JSON.stringify(this.queueArguments(spec).arguments)}`
      this.queueKeys.set(spec, key)
    }
    return key
  }

  /** The queue's name when it is already declared on the current connection, else `undefined` (then call {@link queue}). */
  declaredQueue(spec: QueueSpec): string | undefined {
    const known = this.declared.get(this.queueKey(spec))
    return known?.succeeded && known.epoch === this.connection.epoch ? spec.name : undefined
  }

  /** Throws `UnsupportedFeatureError` when the queue asks for what its type cannot have (priorities on an old quorum queue). */
  queueArguments(spec: QueueSpec): { durable: true; arguments: Record<string, unknown> } {
    const type = queueTypeOf(spec.broker, this.config.queueType)
    const args = durableArguments(type, spec.ordered)
    if (spec.maxPriority !== undefined) Object.assign(args, priorityArguments(type, spec.maxPriority, this.connection.serverVersion, spec.name))
    return { durable: true, arguments: args }
  }

  /** A durable queue (`provision: false`: checks it exists). */
  async queue(spec: QueueSpec): Promise<string> {
    const options = this.queueArguments(spec)
    await this.once(this.queueKey(spec), `queue '${spec.name}'`, async (channel) => {
      if (this.config.provision) await channel.assertQueue(spec.name, options)
      else await this.check(`queue '${spec.name}'`, (isolated) => isolated.checkQueue(spec.name))
    })
    return spec.name
  }

  /**
   * The topic exchange behind a topic. Declared again (after a publish found it deleted, a delete() or a
   * reconnection), it gets this connection's running subscriptions bound again before any publish goes
   * out: a deleted exchange took their bindings with it.
   */
  async topic(topic: string): Promise<string> {
    await this.once(`topic:${topic}`, `topic exchange '${topic}'`, async (channel) => {
      if (this.config.provision) await channel.assertExchange(topic, 'topic', { durable: true })
      else await this.check(`topic exchange '${topic}'`, (isolated) => isolated.checkExchange(topic))
      await this.rebind([{ topic, bindings: this.bindingsOf(topic) }])
    })
    return topic
  }

  /**
   * Binds subscription queues to their topic exchanges again; a no-op on the broker for a binding that is
   * there. All on one channel, and on a new one after a failure (a 404 closes the channel): a check of a
   * hundred topics opened a hundred channels, which cost the client and the broker more than the binds. A
   * missing exchange is declared (with `provision`); a missing queue (an ephemeral one of a lost
   * connection) is its consumer's to declare. Failures are logged, not thrown: the next check binds again.
   */
  async rebind(groups: readonly TopicBindingGroup[]): Promise<void> {
    const model = this.connection.current
    if (!model) return
    let channel: Channel | undefined
    try {
      for (const { topic, bindings } of groups) {
        let exchangeDeclared = false
        for (const binding of bindings) {
          for (;;) {
            channel ??= await isolatedChannel(model)
            try {
              await this.bind(channel, binding.spec, binding.queue, binding.durable)
              break
            } catch (error) {
              await closeQuietly(channel)
              channel = undefined
              if (isNotFound(error) && this.config.provision && !exchangeDeclared) {
                exchangeDeclared = true
                channel = await isolatedChannel(model)
                await channel.assertExchange(topic, 'topic', { durable: true })
                continue
              }
              this.logger.debug(`rabbitmq: binding queue '${binding.queue}' to topic exchange '${topic}' again: ${(error as Error).message}`)
              break
            }
          }
        }
      }
    } catch (error) {
      this.logger.debug(`rabbitmq: binding the subscriptions of ${groups.length} topic exchange(s) again: ${(error as Error).message}`)
    } finally {
      if (channel) await closeQuietly(channel)
    }
  }

  /**
   * A named subscription: durable queue `<topic>.<name>` bound to the topic exchange with the subject
   * pattern (`#` when none); a header filter adds a headers exchange between the two.
   */
  async subscription(spec: SubscriptionSpec & { name: string }): Promise<string> {
    const queue = names.subscriptionQueue(spec.topic, spec.name)
    const type = queueTypeOf(spec.broker, this.config.queueType)
    await this.topic(spec.topic)
    await this.once(this.subscriptionKey(spec), `subscription queue '${queue}'`, async (channel) => {
      if (!this.config.provision) {
        await this.check(`subscription queue '${queue}'`, (isolated) => isolated.checkQueue(queue))
        return
      }
      await channel.assertQueue(queue, { durable: true, arguments: durableArguments(type, false) })
      await this.bind(channel, spec, queue, true)
    })
    return queue
  }

  /** A private queue for one ephemeral subscriber: exclusive, deleted with its consumer or connection. */
  async ephemeral(spec: SubscriptionSpec, queue: string): Promise<void> {
    await this.topic(spec.topic)
    await this.run(`ephemeral queue '${queue}'`, async (channel) => {
      await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false })
      await this.bind(channel, spec, queue, false)
    })
  }

  /** A reply inbox: exclusive to this connection, removed when it closes. */
  async inbox(queue: string): Promise<void> {
    await this.run(`reply inbox '${queue}'`, async (channel) => {
      await channel.assertQueue(queue, { exclusive: true, autoDelete: false, durable: false })
    })
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.run(`queue '${queue}'`, async (channel) => {
      await channel.deleteQueue(queue)
    })
  }

  /**
   * The exchange to publish a delayed message to: a fanout exchange feeding a queue whose TTL is the
   * bucket and whose dead-letter exchange is the default one, so an expired message goes to the queue
   * named by its routing key. Declared even when `provision` is false: it is anymq's own machinery.
   *
   * The delay queue is a quorum queue with at-least-once dead-lettering (RabbitMQ 3.10+): an expired
   * message stays in it until the destination queue has confirmed its copy, so a broker killed while
   * delays expire, or a destination that is not up yet after a restart, delays the message instead of
   * dropping it. A classic queue (or a quorum one with the default strategy) dead-letters at most once.
   */
  async delay(delayMs: number): Promise<string> {
    const bucket = delayBucket(delayMs)
    const name = names.delay(bucket)
    const key = `delay:${name}`
    const known = this.declared.get(key)
    if (known && known.epoch === this.connection.epoch && Date.now() - known.at > delayRefreshMs) this.declared.delete(key)
    await this.once(key, `delay queue '${name}'`, async (channel) => {
      await channel.assertExchange(name, 'fanout', { durable: true, autoDelete: true })
      await channel.assertQueue(name, { durable: true, arguments: delayQueueArguments(bucket) })
      await channel.bindQueue(name, name, '')
    })
    return name
  }

  /** Whether a queue exists (for peek and move on a dead-letter queue nothing was sent to yet). */
  async exists(queue: string): Promise<boolean> {
    try {
      await this.check(`queue '${queue}'`, (channel) => channel.checkQueue(queue))
      return true
    } catch (error) {
      if (isNotFound((error as { cause?: unknown }).cause)) return false
      throw error
    }
  }

  /** Ready messages and consumers of a queue from a passive declare; `undefined` when it does not exist. */
  async counts(queue: string): Promise<{ messageCount: number; consumerCount: number } | undefined> {
    let counts: { messageCount: number; consumerCount: number } | undefined
    try {
      await this.check(`queue '${queue}'`, async (channel) => {
        counts = await channel.checkQueue(queue)
      })
    } catch (error) {
      if (isNotFound((error as { cause?: unknown }).cause)) return undefined
      throw error
    }
    return counts
  }

  /** Runs purges and deletions on a channel of their own and forgets what they removed, so the next use declares again. */
  async administer(what: string, work: (channel: Channel) => Promise<unknown>): Promise<void> {
    await this.check(what, work)
    this.declared.clear()
  }

  /**
   * A passive check on a channel of its own: the broker closes the channel when the answer is "not
   * found", which must not cut off declarations running on the shared one.
   */
  private async check(what: string, probe: (channel: Channel) => Promise<unknown>): Promise<void> {
    const model = await this.connection.ready()
    let channel: Channel
    try {
      channel = await model.createChannel()
    } catch (error) {
      throw connectionError(`cannot open a channel to check ${what}: ${(error as Error).message}`, error)
    }
    let closed = false
    channel.on('error', () => {})
    channel.on('close', () => {
      closed = true
    })
    try {
      await probe(channel)
    } catch (error) {
      throw topologyError(what, error)
    } finally {
      if (!closed) await channel.close().catch(() => {})
    }
  }

  private async bind(channel: Channel, spec: SubscriptionSpec, queue: string, durable: boolean): Promise<void> {
    const pattern = spec.filter?.subject ?? '#'
    const headers = spec.filter?.headers
    if (!headers || Object.keys(headers).length === 0) {
      await channel.bindQueue(queue, spec.topic, pattern)
      return
    }
    // 'all-with-x' (RabbitMQ 3.10+): every listed header must match, including names starting with 'x-'.
    const exchange = names.filterExchange(queue)
    await channel.assertExchange(exchange, 'headers', { durable, autoDelete: true })
    await channel.bindQueue(queue, exchange, '', { 'x-match': 'all-with-x', ...headers })
    await channel.bindExchange(exchange, spec.topic, pattern)
  }

  private once(key: string, what: string, declare: (channel: Channel) => Promise<void>): Promise<void> {
    const epoch = this.connection.epoch
    const known = this.declared.get(key)
    if (known && known.epoch === epoch) return known.done
    const done = this.run(what, declare)
    const entry = { epoch, at: Date.now(), done, succeeded: false }
    this.declared.set(key, entry)
    done.then(
      () => {
        entry.succeeded = true
      },
      () => {
        if (this.declared.get(key)?.done === done) this.declared.delete(key)
      },
    )
    return done
  }

  /** Runs declarations on the topology channel, wrapping every failure in an anymq error. */
  async run<T>(what: string, declare: (channel: Channel) => Promise<T>): Promise<T> {
    let channel: Channel
    try {
      channel = await this.openChannel()
    } catch (error) {
      throw connectionError(`cannot open a channel to declare ${what}: ${(error as Error).message}`, error)
    }
    try {
      return await declare(channel)
    } catch (error) {
      throw topologyError(what, error)
    }
  }

  private async openChannel(): Promise<Channel> {
    const model = await this.connection.ready()
    if (this.channel?.model === model) return this.channel.channel
    const opening = model.createChannel().then((channel) => {
      channel.on('error', (error: Error) => this.logger.debug(`rabbitmq topology channel: ${error.message}`))
      channel.on('close', () => {
        if (this.channel?.channel === opening) this.channel = undefined
      })
      return channel
    })
    this.channel = { model, channel: opening }
    opening.catch(() => {
      if (this.channel?.channel === opening) this.channel = undefined
    })
    return opening
  }
}

/** A channel for calls whose refusal closes it; its 'error' event is the rejected call's. */
async function isolatedChannel(model: ChannelModel): Promise<Channel> {
  const channel = await model.createChannel()
  channel.on('error', () => {})
  return channel
}

async function closeQuietly(channel: Channel): Promise<void> {
  await channel.close().catch(() => {})
}

/** What a delay queue is declared with; see {@link RabbitTopology.delay}. */
export function delayQueueArguments(bucketMs: number): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-message-ttl': bucketMs,
    'x-dead-letter-exchange': '',
    // at-least-once is only honoured with reject-publish; without a length limit nothing is ever rejected.
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
    'x-expires': delayQueueExpiresMs(bucketMs),
  }
}

function durableArguments(type: QueueType, ordered: boolean): Record<string, unknown> {
  const args: Record<string, unknown> = {}
  // Classic is the broker's default; leaving the argument out keeps queues made by other clients compatible.
  if (type === 'quorum') args['x-queue-type'] = 'quorum'
  if (ordered) args['x-single-active-consumer'] = true
  return args
}
