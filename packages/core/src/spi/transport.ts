import type { Capabilities } from '../capabilities.js'
import type { Logger } from '../logger.js'
import type { OptionShape } from '../options-validation.js'
import type { TransportAdmin } from './admin.js'
import type { AsyncApiBindings } from './asyncapi-bindings.js'
import type { CloudEventsHeaders } from './cloud-events-headers.js'
import type { ConnectionStateChange } from './connection-state.js'

/**
 * The adapter contract. Users never call it; `@anymq/core` does. An adapter implements a few
 * low-level operations and core builds queues, topics, retries, dead letters, ordering and
 * request/reply on top of them, once for every broker.
 */
export interface AdapterFactory {
  /** Short name used in errors and tables: `memory`, `rabbitmq`, `kafka`, `aws`, `redis`. */
  readonly name: string
  /** URL schemes it serves, without the colon: `['amqp', 'amqps']`. */
  readonly schemes: readonly string[]
  readonly capabilities: Capabilities
  /**
   * The adapter-specific `broker` options a queue, topic, subscription, requester or responder may
   * take, one check per key (see `@anymq/core/spi`'s checks). Core validates them when the handle is
   * made, every problem at once, so an adapter reads `QueueSpec.broker` / `SubscriptionSpec.broker`
   * already checked. Absent: the adapter takes none, and any key is a `ConfigError`.
   */
  readonly queueBrokerOptions?: OptionShape
  /**
   * `messaging.system` in traces and metrics when it differs from `name` (the semantic conventions'
   * well-known value, e.g. `aws_sqs`, `gcp_pubsub`).
   */
  readonly messagingSystem?: string
  /**
   * How CloudEvents attributes travel as headers on this broker (binary content mode), after its
   * transport's CloudEvents protocol binding. Absent: HTTP-style `ce-` headers and the message's own
   * content type.
   */
  readonly cloudEvents?: CloudEventsHeaders
  /** How `mq.asyncapi()` describes the broker of a connection URL (credentials removed): protocol and bindings. Absent: the URL scheme as protocol, no bindings. */
  readonly asyncApi?: (url: URL) => AsyncApiBindings
  /**
   * Opens a connection. Resolves once the broker answered; rejects with `ConnectionError`, or with
   * `ConfigError` naming every bad URL parameter or option at once.
   */
  connect(url: URL, context: AdapterContext): Promise<Transport>
}

export interface AdapterContext {
  logger: Logger
  /**
   * Every `host:port` of the URL's authority. A multi-host URL (`kafka://a:9092,b:9092`) is not a
   * WHATWG URL, so core hands the adapter the URL with the first host and lists them all here.
   */
  hosts?: readonly string[]
  /** Adapter-specific options given to `connect(url, { broker: { … } })`. The adapter validates them. */
  options: Readonly<Record<string, unknown>>
  /** The capabilities in force for this connection (an adapter may narrow them by URL options). */
  capabilities: Capabilities
  /**
   * Tells core how the connection stands, for `mq.health()` and connection events: `reconnecting`
   * with the cause each time the adapter notices the connection lost and tries again, `connected`
   * once it is back, `closed` when it gave up for good. The connection starts `connected` when
   * `connect()` resolves, and `mq.close()` makes it `closed`; repeated `connected` reports are ignored.
   * Absent when the adapter is driven without core (adapter tests).
   */
  reportConnectionState?: (change: ConnectionStateChange) => void
  /**
   * The caller's `connect(url, { signal })`. Core rejects with `AbortedError` as soon as it fires and
   * closes the transport should it open later; an adapter that listens can also drop its half-open
   * sockets at once rather than at its connect timeout. It concerns only the opening: a connection
   * that has opened must not close when it fires later.
   */
  signal?: AbortSignal
}

/** How a queue should look when the adapter provisions it. */
export interface QueueSpec {
  name: string
  /** Keep per-key order across consumer instances (FIFO queue, single active consumer, partition key…). */
  ordered: boolean
  /** Where core dead-letters; adapters with native dead-lettering may wire the broker to it. */
  deadLetter: string | false
  /** Attempts before dead-lettering; adapters with native redrive may use it as a backstop. */
  maxAttempts: number
  /** Adapter-specific settings from `queue(name, { broker: { … } })`, checked by core against `AdapterFactory.queueBrokerOptions`. */
  broker: Readonly<Record<string, unknown>>
  /**
   * Highest priority the queue keeps apart (1 to 9), from `queue(name, { maxPriority })`; absent: the
   * queue was not asked for priorities. Adapters whose `priorityQueues` is `declared` provision it (RabbitMQ's
   * `x-max-priority`); messages arrive with `priority` at most this value.
   */
  maxPriority?: number
}

export interface TopicFilter {
  /** Subject pattern: `*` matches one dot-separated word, `#` zero or more (AMQP topic syntax). */
  subject?: string
  /** Every listed header must be present with exactly this value. */
  headers?: Readonly<Record<string, string>>
}

export interface SubscriptionSpec {
  topic: string
  /** Subscription name (a consumer group); `undefined` = ephemeral, removed when it closes. */
  name: string | undefined
  filter: TopicFilter | undefined
  /** Where a new subscription begins. Only `latest` unless the adapter declares `replay`. */
  startFrom: 'latest' | 'earliest'
  deadLetter: string | false
  maxAttempts: number
  /** The topic's and the subscription's `broker` options merged, checked against `AdapterFactory.queueBrokerOptions`. */
  broker: Readonly<Record<string, unknown>>
}

export type Destination =
  | { kind: 'queue'; queue: QueueSpec }
  | { kind: 'topic'; topic: string }
  /** Straight into one subscription of a topic, bypassing the others (used by redrive). */
  | { kind: 'subscription'; subscription: SubscriptionSpec }
  /** A reply inbox opened by {@link Transport.openInbox}; `address` is its `replyTo`. */
  | { kind: 'inbox'; address: string }

export type Source = { kind: 'queue'; queue: QueueSpec } | { kind: 'subscription'; subscription: SubscriptionSpec }

/** A message as it travels: bytes and string headers, nothing shared with the sender's objects. */
export interface OutgoingMessage {
  id: string
  /**
   * Bytes nothing writes to once they are handed to `publish`: core copies what a codec returns unless
   * the codec declares `freshBytes`, so a transport that keeps messages (memory) may keep them as they are.
   */
  body: Uint8Array
  contentType: string
  /** User headers plus anymq's reserved `x-anymq-*` headers; always strings. */
  headers: Record<string, string>
  key: string | undefined
  correlationId: string | undefined
  replyTo: string | undefined
  /** Milliseconds since the epoch when the message was first sent. */
  timestamp: number
  /** Topic subject used by subject filters. */
  subject: string | undefined
  /** Not before this many milliseconds from now. 0 = now. */
  delayMs: number
  priority: number | undefined
  dedupeId: string | undefined
  /** 1 for a new message; higher when an adapter republishes a retry. */
  attempt: number
}

export interface IncomingMessage {
  id: string
  body: Uint8Array
  contentType: string
  headers: Record<string, string>
  key: string | undefined
  correlationId: string | undefined
  replyTo: string | undefined
  timestamp: number
  subject: string | undefined
  /** Which delivery this is, 1 on the first. Adapters read it from a header or the broker's receive count. */
  attempt: number
}

export interface TransportConsumeOptions {
  /** At most this many deliveries may be unsettled at once; the adapter stops fetching beyond it. */
  prefetch: number
  /** Lease (visibility timeout) for unsettled deliveries; only when the adapter declares `leaseExpiry`. */
  leaseMs: number | undefined
  /** Reports errors that do not belong to one delivery (a lost connection the adapter retries). */
  onError(error: Error): void
  /**
   * `true` when core only reads the bodies of this consumer's deliveries and hands neither them nor a
   * view of them to user code (the codec decodes into a new value: JSON, text). A broker in the process
   * may then deliver the bytes it stores instead of a private copy per delivery, and the message it
   * stores as it is: core never writes to a delivered message, its headers or its bytes, and hands
   * a handler its own headers object. Absent or `false`: a handler may get the bytes themselves (raw or custom codec), and each
   * delivery's body must be its own.
   */
  bodiesReadOnly?: boolean
}

/** One delivered message, settled exactly once by core with one of the methods. */
export interface Delivery {
  message: IncomingMessage
  /** The native message (amqplib Message, kafkajs KafkaMessage, SQS Message, stream entry…). */
  raw: unknown
  /** Done; never deliver it again. */
  ack(): Promise<void>
  /**
   * Optional, for brokers in the same process whose ack waits on nothing: acks synchronously and
   * returns `true` once the delivery is settled (`false`: not settled, core then calls {@link ack}).
   * When a handler returns without a promise, core then frees its concurrency slot in the same turn,
   * as a plain in-process loop would; without it, the slot waits one turn for `ack()`'s promise.
   * An async handler's delivery, and a consumer with a schema, is acked through it too (no promise of
   * `ack()` to await); a consumer with a claim check acks with `ack()`, then releases the body. A
   * throw is reported to the consumer's `onError`, as a rejected `ack()` is.
   */
  ackNow?(): boolean
  /**
   * Deliver again after `delayMs` with `attempt + 1` and these headers (failure bookkeeping),
   * without blocking the messages behind it. See `retryCopy` for the generic way. Resolves once the
   * retry is scheduled durably and the original settled.
   *
   * When it rejects, the delivery is still unsettled, exactly as before the call: the adapter has
   * not acked, requeued or released it, and schedules nothing of its own to do so (no delayed nack,
   * no in-memory redelivery). A retry copy may already exist (it was published, the ack of the
   * original failed): at-least-once allows the duplicate. Core then settles the delivery once more,
   * with `release()`, which must work as on any unsettled delivery.
   */
  retry(options: { delayMs: number; headers: Record<string, string> }): Promise<void>
  /**
   * Give it back untouched so a consumer can take it soon: no failure recorded (used on close for
   * unstarted work, by `message.release()`, and after a rejected `retry()`).
   */
  release(): Promise<void>
  /** Push the lease out by `ms` from now. Only when the adapter declares `leaseExtension`. */
  extendLease(ms: number): Promise<void>
}

export interface TransportConsumer {
  /** Stop fetching; deliveries already handed over may still be settled. */
  stop(): Promise<void>
  /** Detach; anything unsettled goes back to the broker. Idempotent. */
  close(): Promise<void>
}

export interface Inbox {
  /** Goes into `replyTo` of requests; replies are published to `{ kind: 'inbox', address }`. */
  address: string
  close(): Promise<void>
}

export interface Transport {
  /** Capabilities of this connection when URL options narrow the factory's (e.g. a smaller size limit). */
  readonly capabilities?: Capabilities
  /** Resolves only when the broker has every message (confirms, acks=all, SendMessage reply, XADD reply). */
  publish(destination: Destination, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<void>
  /**
   * Optional, for a broker in this process: stores one message before it returns, or throws what
   * `publish(destination, [message])` would reject with; otherwise the same as that call. With it, a
   * send without schema, claim check or telemetry provider settles with no promise chain (nothing is
   * waited for, so there is no `signal` to honour).
   */
  publishNow?(destination: Destination, message: OutgoingMessage): void
  /** Resolves once the consumer is attached and will see messages published from now on. */
  consume(source: Source, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<TransportConsumer>
  /** A private, temporary destination for replies, removed on close. */
  openInbox(options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<Inbox>
  /** Up to `limit` messages of a queue without taking them. */
  peek(queue: QueueSpec, limit: number): Promise<IncomingMessage[]>
  /**
   * Moves up to `limit` messages from queue `from` to `to`, each passed through `prepare` first;
   * each is removed from `from` only after `to` has it. Resolves with the number moved.
   */
  move(from: QueueSpec, to: Destination, limit: number, prepare: (message: IncomingMessage) => OutgoingMessage): Promise<number>
  /** Stats, purge, delete, list and per-message dead-letter operations; present when `capabilities.admin` declares any. */
  readonly admin?: TransportAdmin
  /** Settles nothing more, flushes accepted publishes, closes connections. Idempotent. */
  close(): Promise<void>
  /** Drops the connection at once without settling anything, as a crashed process would. */
  terminate(): Promise<void>
}
