import {
  type Capabilities,
  type CodecOption,
  createRetryPolicy,
  type PublishOptions,
  type RetryPolicyOptions,
  type SendOptions,
  type StandardSchemaV1,
} from '@anymq/core'
import {
  ConfigError,
  codecCheck,
  type Destination,
  describeValue,
  either,
  nameCheck,
  type OptionCheck,
  type OptionShape,
  type OutgoingContext,
  objectOf,
  ofType,
  oneOf,
  publishOptionChecks,
  resolveCodec,
  retryPolicyCheck,
  sendOptionChecks,
  standardSchema,
  UnsupportedFeatureError,
  validateOptions,
} from '@anymq/core/spi'

/** Options of `outbox.queue(name, options)`: the same as `mq.queue(name, options)` where they matter to the sender. */
export interface OutboxQueueOptions<T> {
  /** Any Standard Schema; checked in `add()`, so an invalid body fails the caller's transaction. */
  schema?: StandardSchemaV1<unknown, T>
  /** `json` (default), `text`, `raw` or your own codec; must match the consumer's. */
  codec?: CodecOption
  /**
   * As the consumer's queue declares it (the relay provisions the queue the same way). Default false.
   * `UnsupportedFeatureError` unless the outbox's `broker` keeps per-key order (`ordering: 'key'`).
   */
  ordered?: boolean
  /** As the consumer's queue declares it. Default `<name>.dlq`. */
  deadLetter?: string | false
  /** As the consumer's queue declares it (brokers with native redrive use its maxAttempts). */
  retry?: RetryPolicyOptions | false
  /** Adapter-specific provisioning, as the consumer's queue declares it. */
  broker?: Record<string, unknown>
}

/** Options of `outbox.topic(name, options)`. */
export interface OutboxTopicOptions<T> {
  schema?: StandardSchemaV1<unknown, T>
  codec?: CodecOption
}

/** Options of one message added for a queue: those of `queue.send()` but the signal. */
export type OutboxSendOptions = Omit<SendOptions, 'signal'>
/** Options of one message added for a topic: those of `topic.publish()` but the signal. */
export type OutboxPublishOptions = Omit<PublishOptions, 'signal'>

/** A queue or topic as the outbox writes for it: where to, and how to encode. */
export interface OutboxTarget<T> {
  readonly kind: 'queue' | 'topic'
  readonly name: string
  /** @internal */
  readonly destination: Destination
  /** @internal */
  readonly destinationJson: string
  /** @internal */
  readonly context: OutgoingContext
  /** @internal phantom type of the body */
  readonly __body?: T
}

/** Anything `add()` accepts as a destination: a handle from `outbox.queue()`/`outbox.topic()`, a queue name, or `{ queue }` / `{ topic }`. */
export type OutboxDestination<T> = OutboxTarget<T> | string | { queue: string } | { topic: string }

const queueChecks: Record<Exclude<keyof OutboxQueueOptions<unknown>, 'broker'>, OptionCheck> = {
  schema: standardSchema(),
  codec: codecCheck,
  ordered: ofType('boolean'),
  deadLetter: either(oneOf(false), ofType('string', 'a queue name')),
  retry: retryPolicyCheck,
}

const topicChecks: Record<keyof OutboxTopicOptions<unknown>, OptionCheck> = { schema: standardSchema(), codec: codecCheck }

/** Core's checks of `send()` / `publish()` options but `signal`: adding a row never waits on the broker. */
function withoutSignal<Checks extends { signal: OptionCheck }>(checks: Checks): Omit<Checks, 'signal'> {
  const { signal: _signal, ...rest } = checks
  return rest
}

export const sendChecks: Record<keyof OutboxSendOptions, OptionCheck> = withoutSignal(sendOptionChecks)
export const publishChecks: Record<keyof OutboxPublishOptions, OptionCheck> = withoutSignal(publishOptionChecks)

export interface BrokerLimits {
  adapter: string
  capabilities: Capabilities
  /** The adapter's `queueBrokerOptions` when the outbox knows the adapter or connection; else `broker` is only checked to be an object. */
  queueBrokerOptions: OptionShape | undefined
}

export function queueTarget<T>(name: string, options: OutboxQueueOptions<T> = {}, limits: BrokerLimits): OutboxTarget<T> {
  validateOptions({ name }, { name: nameCheck }, 'outbox.queue', 'outbox')
  const brokerCheck = limits.queueBrokerOptions ? objectOf(limits.queueBrokerOptions) : ofType('object')
  validateOptions(options, { ...queueChecks, broker: brokerCheck }, `outbox.queue('${name}') options`, 'outbox')
  if (options.ordered === true && limits.capabilities.ordering !== 'key') {
    throw new UnsupportedFeatureError(
      limits.adapter,
      'ordered: true (per-key order across consumer instances)',
      `its ordering is '${limits.capabilities.ordering}'; give the outbox the broker it relays to (broker: mq), or leave ordered out`,
    )
  }
  const destination: Destination = {
    kind: 'queue',
    queue: {
      name,
      ordered: options.ordered ?? false,
      deadLetter: options.deadLetter ?? `${name}.dlq`,
      maxAttempts: createRetryPolicy(options.retry).maxAttempts,
      broker: options.broker ?? {},
    },
  }
  return target('queue', name, destination, options, limits)
}

export function topicTarget<T>(name: string, options: OutboxTopicOptions<T> = {}, limits: BrokerLimits): OutboxTarget<T> {
  validateOptions({ name }, { name: nameCheck }, 'outbox.topic', 'outbox')
  validateOptions(options, topicChecks, `outbox.topic('${name}') options`, 'outbox')
  return target('topic', name, { kind: 'topic', topic: name }, options, limits)
}

function target<T>(
  kind: 'queue' | 'topic',
  name: string,
  destination: Destination,
  options: { schema?: StandardSchemaV1<unknown, T>; codec?: CodecOption },
  limits: BrokerLimits,
): OutboxTarget<T> {
  return {
    kind,
    name,
    destination,
    destinationJson: JSON.stringify(destination),
    context: {
      adapter: limits.adapter,
      capabilities: limits.capabilities,
      codec: resolveCodec(options.codec),
      schema: options.schema as StandardSchemaV1 | undefined,
      where: `${kind} '${name}' (outbox)`,
    },
  }
}

export function resolveTarget<T>(destination: OutboxDestination<T>, limits: BrokerLimits, cache: Map<string, OutboxTarget<unknown>>): OutboxTarget<T> {
  if (typeof destination === 'string') return cached(`queue:${destination}`, () => queueTarget(destination, {}, limits), cache)
  if (typeof destination === 'object' && destination !== null) {
    if ('context' in destination && 'destinationJson' in destination) return destination
    if ('queue' in destination && typeof destination.queue === 'string') {
      const name = destination.queue
      return cached(`queue:${name}`, () => queueTarget(name, {}, limits), cache)
    }
    if ('topic' in destination && typeof destination.topic === 'string') {
      const name = destination.topic
      return cached(`topic:${name}`, () => topicTarget(name, {}, limits), cache)
    }
  }
  throw new ConfigError(
    [
      {
        field: 'outbox.add destination',
        message: `expected a queue name, { queue: 'name' }, { topic: 'name' }, outbox.queue(…) or outbox.topic(…), got ${describeValue(destination, 'destination')}`,
      },
    ],
    { adapter: 'outbox' },
  )
}

function cached<T>(key: string, make: () => OutboxTarget<unknown>, cache: Map<string, OutboxTarget<unknown>>): OutboxTarget<T> {
  let found = cache.get(key)
  if (!found) {
    found = make()
    cache.set(key, found)
  }
  return found as OutboxTarget<T>
}
