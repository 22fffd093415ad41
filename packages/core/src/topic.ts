import { adminFor } from './admin-access.js'
import { type CodecOption, codecCheck, resolveCodec } from './codec.js'
import type { Handler } from './consumer-engine.js'
import { DeadLetters } from './dead-letters.js'
import { type DestinationStats, readStats } from './destination-stats.js'
import { ConfigError, UnsupportedFeatureError } from './errors.js'
import type { Message } from './message.js'
import { iterateMessages, type MessagesOptions } from './message-iterator.js'
import { MessageSender } from './message-sender.js'
import { abortSignal, deadLetterCheck, type OptionCheck, objectOf, ofType, oneOf, standardSchema, stringRecord, validateOptions } from './options-validation.js'
import { noSendOptions, type OutgoingContext, type PublishOptions } from './outgoing-message.js'
import { validateName } from './queue.js'
import { createRetryPolicy, type RetryPolicyOptions, retryPolicyCheck } from './retry-policy.js'
import type { Runtime } from './runtime.js'
import type { StandardSchemaV1 } from './schema.js'
import type { SubscriptionSpec, TopicFilter } from './spi/transport.js'
import { type ConsumeOptions, type ConsumerDefinition, type Subscription, startSubscription } from './subscription.js'

/** Options of `mq.topic(name, options)`. */
export interface TopicOptions<T> {
  schema?: StandardSchemaV1<unknown, T>
  codec?: CodecOption
  /** Default retry policy of this topic's subscriptions. */
  retry?: RetryPolicyOptions | false
  broker?: Record<string, unknown>
}

/** Options of `topic.subscribe()`. */
export interface SubscribeOptions extends ConsumeOptions {
  /** Receive only matching messages (adapter's `topicFilters` capability). */
  filter?: TopicFilter
  /** Where a new named subscription begins: `latest` (default) or `earliest` (adapter's `replay`). */
  startFrom?: 'latest' | 'earliest'
  retry?: RetryPolicyOptions | false
  /** Dead-letter queue; default `<topic>.<subscription>.dlq` for named subscriptions, none for ephemeral ones. */
  deadLetter?: string | false
  broker?: Record<string, unknown>
}

/** Checks of `mq.topic()` options but `broker`, which the adapter declares (`AdapterFactory.queueBrokerOptions`). */
const topicOptionChecks: Record<Exclude<keyof TopicOptions<unknown>, 'broker'>, OptionCheck> = {
  schema: standardSchema(),
  codec: codecCheck,
  retry: retryPolicyCheck,
}

export const publishOptionChecks: Record<keyof PublishOptions, OptionCheck> = {
  key: ofType('string'),
  headers: stringRecord(),
  subject: ofType('string'),
  id: ofType('string'),
  correlationId: ofType('string'),
  signal: abortSignal(),
}

const subscribeOnlyChecks: Record<Exclude<keyof SubscribeOptions, keyof ConsumeOptions | 'broker'>, OptionCheck> = {
  filter: objectOf({ subject: ofType('string'), headers: stringRecord() }),
  startFrom: oneOf('latest', 'earliest'),
  retry: retryPolicyCheck,
  deadLetter: deadLetterCheck,
}

/**
 * Publish/subscribe. Every named subscription receives every message published after it was first
 * created; consumers sharing a subscription name compete (a consumer group). A subscription without a
 * name is ephemeral: private to this consumer, and gone when it closes.
 */
export class Topic<T = unknown> {
  readonly name: string
  private readonly outgoing: OutgoingContext
  private readonly sender: MessageSender

  constructor(
    private readonly runtime: Runtime,
    name: string,
    private readonly options: TopicOptions<T> = {},
  ) {
    validateOptions(options, { ...topicOptionChecks, broker: runtime.brokerOptionsCheck }, `topic('${name}') options`, runtime.adapter)
    validateName(runtime, name, 'topic')
    this.name = name
    this.outgoing = {
      adapter: runtime.adapter,
      capabilities: runtime.capabilities,
      codec: resolveCodec(options.codec),
      schema: options.schema,
      where: `topic '${name}'`,
      cloudEvents: runtime.cloudEventsHeaders,
    }
    this.sender = new MessageSender(runtime, { kind: 'topic', topic: name }, this.outgoing, publishOptionChecks, 'publish')
    runtime.declarations.declare('topic', name, { schema: options.schema, contentType: this.outgoing.codec.contentType })
  }

  /** Publishes one message to every subscription. Resolves once the broker has it. */
  publish(body: T, options: PublishOptions = noSendOptions): Promise<{ id: string }> {
    return this.sender.one(body, options)
  }

  /** Publishes many messages in as few round trips as the adapter allows; all validated before any is sent. */
  publishBatch(bodies: readonly T[], options: PublishOptions | ((body: T, index: number) => PublishOptions) = {}): Promise<{ ids: string[] }> {
    return this.sender.many(bodies, options)
  }

  /** Subscribes under `name` (a consumer group), or ephemerally when `name` is `undefined`. See {@link Subscription.ready}. */
  subscribe(name: string | undefined, handler: Handler<T>, options: SubscribeOptions = {}): Subscription {
    this.runtime.assertOpen()
    return startSubscription<T>(this.runtime, this.consumer(name, options, 'subscribe'), handler, options)
  }

  /**
   * The async-iterator form of {@link subscribe}, as `queue.messages()`: acked when the loop moves on,
   * the current message released when it is left, ended when the signal aborts or the connection closes.
   */
  messages(name: string | undefined, options: MessagesOptions & Omit<SubscribeOptions, keyof ConsumeOptions> = {}): AsyncIterableIterator<Message<T>> {
    this.runtime.assertOpen()
    const { signal, leaseMs, ...subscribeOptions } = options
    validateOptions(
      subscribeOptions,
      { ...subscribeOnlyChecks, broker: this.runtime.brokerOptionsCheck },
      `topic('${this.name}').messages options`,
      this.runtime.adapter,
    )
    return iterateMessages<T>(this.runtime, this.consumer(name, subscribeOptions, 'messages'), { signal, leaseMs })
  }

  private consumer(name: string | undefined, options: SubscribeOptions, call: string): ConsumerDefinition<T> {
    if (name !== undefined) validateName(this.runtime, name, 'subscription')
    this.runtime.declarations.declare('topic', this.name, { schema: this.options.schema, contentType: this.outgoing.codec.contentType }).subscriptions.add(name)
    const spec = this.spec(name, options)
    return {
      source: { kind: 'subscription', subscription: spec },
      label: `${this.name}/${name ?? '(ephemeral)'}`,
      where: `topic('${this.name}').${call}('${name ?? '(ephemeral)'}')`,
      codec: this.outgoing.codec,
      schema: this.options.schema,
      retry: createRetryPolicy(options.retry ?? this.options.retry),
      deadLetter: spec.deadLetter,
      extraChecks: { ...subscribeOnlyChecks, broker: this.runtime.brokerOptionsCheck },
    }
  }

  /** Dead letters of one named subscription. */
  deadLetters(subscription: string, options: Pick<SubscribeOptions, 'deadLetter'> = {}): DeadLetters<T> {
    validateName(this.runtime, subscription, 'subscription')
    const spec = this.spec(subscription, options)
    return new DeadLetters<T>(
      this.runtime,
      spec.deadLetter === false ? undefined : spec.deadLetter,
      { kind: 'subscription', subscription: spec },
      this.outgoing.codec,
      undefined,
      this.options.schema,
    )
  }

  /**
   * Depths of one named subscription (see {@link Queue.stats}). Pass the subscription's `deadLetter`
   * option when it was given one, so the dead-lettered count reads the right queue.
   */
  async stats(subscription: string, options: Pick<SubscribeOptions, 'deadLetter'> = {}): Promise<DestinationStats> {
    validateName(this.runtime, subscription, 'subscription')
    const spec = this.spec(subscription, options)
    return readStats(this.runtime, { kind: 'subscription', subscription: spec }, `${this.name}/${subscription}`, spec.deadLetter)
  }

  /** Removes every waiting message of one named subscription; the other subscriptions keep theirs. Needs `admin.purge`. */
  async purge(subscription: string): Promise<void> {
    validateName(this.runtime, subscription, 'subscription')
    await adminFor(this.runtime, 'purge', 'purge()').purge({ kind: 'subscription', subscription: this.spec(subscription, {}) })
  }

  /** Deletes one named subscription (its messages go with it; its dead-letter queue stays). Idempotent. Needs `admin.delete`. */
  async deleteSubscription(subscription: string): Promise<void> {
    validateName(this.runtime, subscription, 'subscription')
    await adminFor(this.runtime, 'delete', 'deleteSubscription()').remove({ kind: 'subscription', subscription: this.spec(subscription, {}) })
  }

  /** Deletes the topic and every subscription of it. Idempotent. Needs `admin.delete`. */
  async delete(): Promise<void> {
    await adminFor(this.runtime, 'delete', 'delete()').remove({ kind: 'topic', topic: this.name })
  }

  private spec(name: string | undefined, options: SubscribeOptions): SubscriptionSpec {
    const { capabilities, adapter } = this.runtime
    const filter = options.filter
    if (filter?.subject !== undefined && !capabilities.topicFilters.subject) {
      throw new UnsupportedFeatureError(adapter, 'subject filters', 'filter in the handler, or publish to separate topics')
    }
    if (filter?.headers !== undefined && !capabilities.topicFilters.headers) {
      throw new UnsupportedFeatureError(adapter, 'header filters', 'filter in the handler, or publish to separate topics')
    }
    if (options.startFrom === 'earliest') {
      if (!capabilities.replay)
        throw new UnsupportedFeatureError(
          adapter,
          "startFrom: 'earliest' (replay)",
          'the broker keeps no history for new subscriptions; use Kafka or Redis for replay',
        )
      if (name === undefined)
        throw new ConfigError(
          [
            {
              field: 'startFrom',
              message: "'earliest' needs a named subscription",
            },
          ],
          { adapter },
        )
    }
    const retry = createRetryPolicy(options.retry ?? this.options.retry)
    return {
      topic: this.name,
      name,
      filter,
      startFrom: options.startFrom ?? 'latest',
      deadLetter: options.deadLetter ?? (name === undefined ? false : `${this.name}.${name}.dlq`),
      maxAttempts: retry.maxAttempts,
      broker: { ...this.options.broker, ...options.broker },
    }
  }
}
