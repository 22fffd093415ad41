import type { Capabilities } from './capabilities.js'
import type { ClaimCheck } from './claim-check.js'
import { type Codec, unsharedBytes } from './codec.js'
import { ConfigError, MessageTooLargeError, UnsupportedFeatureError } from './errors.js'
import { newMessageId } from './message-id.js'
import { type StandardSchemaV1, validateBody } from './schema.js'
import { type CloudEventsHeaders, defaultCloudEventsHeaders } from './spi/cloud-events-headers.js'
import { messageSize } from './spi/message-size.js'
import type { OutgoingMessage } from './spi/transport.js'
import { isReservedHeader, wireHeaders } from './spi/wire-headers.js'

/** Options of one message sent to a queue. */
export interface SendOptions {
  /** Ordering key: messages of one key are processed one at a time, in order. */
  key?: string
  headers?: Record<string, string>
  /** Deliver no sooner than this many milliseconds from now (adapter's `delay` capability). */
  delayMs?: number
  /** Message id; when absent, a UUID in the version 4 layout, unique but not secret (see `newMessageId`). */
  id?: string
  correlationId?: string
  replyTo?: string
  /**
   * 0 (lowest) to 9: among waiting messages, higher goes first; adapter's `priority` capability. Where
   * it is `priorityQueues: 'declared'`, only on a queue made with `maxPriority`. Above the queue's
   * `maxPriority` it counts as `maxPriority`.
   */
  priority?: number
  /** Drop the message, unhandled, when it is not delivered within this many ms of becoming due (after `delayMs`); adapter's `expiry` capability. */
  ttlMs?: number
  /** Drops a repeat of this id within the broker's window; adapter's `dedupe` capability. */
  dedupeId?: string
  /**
   * Bounds the send: aborted before, nothing is sent; aborted before the broker confirmed, the send
   * rejects at once with `AbortedError` (`ERR_ABORTED`), and what the broker was given may still be
   * stored. `AbortSignal.timeout(ms)` caps how long a send waits on a broker that stopped answering.
   */
  signal?: AbortSignal
}

/** Options of one message published to a topic. */
export interface PublishOptions {
  key?: string
  headers?: Record<string, string>
  /** Subject for subscriptions that filter by pattern, e.g. `orders.eu.created`. */
  subject?: string
  id?: string
  correlationId?: string
  /**
   * Bounds the send: aborted before, nothing is sent; aborted before the broker confirmed, the send
   * rejects at once with `AbortedError` (`ERR_ABORTED`), and what the broker was given may still be
   * stored. `AbortSignal.timeout(ms)` caps how long a send waits on a broker that stopped answering.
   */
  signal?: AbortSignal
}

export interface OutgoingContext {
  adapter: string
  capabilities: Capabilities
  codec: Codec<unknown>
  schema: StandardSchemaV1 | undefined
  /** For error messages: `queue 'orders'`. */
  where: string
  /** Set when large bodies go to a blob store: the size is then checked after offloading, by the sender. */
  claimCheck?: ClaimCheck
  /** The queue's `maxPriority`, when it was made with one: priorities are capped at it. */
  maxPriority?: number
  /** The adapter's CloudEvents header convention, for codecs with an envelope. Default: `ce-` headers. */
  cloudEvents?: CloudEventsHeaders
}

/** A send without options: one frozen object for every such call rather than a new `{}` each. */
export const noSendOptions: SendOptions & PublishOptions = Object.freeze({})

/** The usual send's `extra`: one object for every call rather than a new `{}` each. */
const noExtra: { replyTo?: string; headers?: Record<string, string> } = Object.freeze({})

/**
 * Validates, encodes and checks one body against the adapter's limits, before anything reaches the
 * broker: a bad body fails the caller's call, never a later delivery.
 */
export async function prepareOutgoing(
  body: unknown,
  options: SendOptions & PublishOptions,
  context: OutgoingContext,
  extra: { replyTo?: string; headers?: Record<string, string> } = noExtra,
): Promise<OutgoingMessage> {
  const value = context.schema ? await validateBody(context.schema, body, `message for ${context.where}`, context.adapter) : body
  return encodeOutgoing(value, options, context, extra)
}

/**
 * The synchronous part of {@link prepareOutgoing}: checks options against the capabilities, encodes
 * an already validated body and checks its size. For callers that must stay synchronous (a SQLite
 * transaction); validate first with `validateBodySync`.
 */
export function encodeOutgoing(
  value: unknown,
  options: SendOptions & PublishOptions,
  context: OutgoingContext,
  extra: { replyTo?: string; headers?: Record<string, string> } = noExtra,
): OutgoingMessage {
  const { adapter, capabilities } = context
  const delayMs = options.delayMs ?? 0
  if (delayMs > 0) {
    if (capabilities.delay === false)
      throw new UnsupportedFeatureError(adapter, 'delayed delivery (delayMs)', 'schedule the send in your application, or use an adapter with delay support')
    if (delayMs > capabilities.delay.maxMs) {
      throw new UnsupportedFeatureError(
        adapter,
        `a delay of ${delayMs} ms`,
        `the longest delay it accepts is ${capabilities.delay.maxMs} ms; store far-future work in a database and send it when due`,
      )
    }
  }
  if (options.priority !== undefined) checkPriority(context)
  if (options.ttlMs !== undefined && capabilities.expiry === false) {
    throw new UnsupportedFeatureError(adapter, 'message expiry (ttlMs)', 'put a deadline in the body and have the handler skip late messages')
  }
  if (options.dedupeId !== undefined && capabilities.dedupe === false) {
    throw new UnsupportedFeatureError(adapter, 'broker-side deduplication (dedupeId)', 'make the handler idempotent (the outbox package has an inbox for that)')
  }
  const headers: Record<string, string> = {}
  const given = options.headers
  if (given !== undefined)
    for (const name of Object.keys(given)) {
      const headerValue = given[name] as string
      if (isReservedHeader(name))
        throw new ConfigError(
          [
            {
              field: `headers.${name}`,
              message: "names starting with 'x-anymq-' are reserved for anymq",
            },
          ],
          { adapter },
        )
      // `headers.__proto__ = value` would not make a header: refused, not silently dropped.
      if (name === '__proto__')
        throw new ConfigError([{ field: 'headers.__proto__', message: 'this name cannot be carried by a JavaScript object; rename the header' }], { adapter })
      headers[name] = headerValue
    }
  if (extra.headers !== undefined) Object.assign(headers, extra.headers)
  const now = Date.now()
  if (options.ttlMs !== undefined) headers[wireHeaders.expiresAt] = String(now + delayMs + options.ttlMs)
  const envelope = context.codec.envelope
  const written = envelope?.write(value, { cloudEvents: context.cloudEvents ?? defaultCloudEventsHeaders, where: context.where })
  if (written !== undefined) Object.assign(headers, written.headers)
  const message: OutgoingMessage = {
    id: options.id ?? written?.id ?? newMessageId(),
    body: unsharedBytes(context.codec, written === undefined ? context.codec.encode(value) : written.body),
    contentType: written === undefined ? context.codec.contentType : written.contentType,
    headers,
    key: options.key ?? written?.key,
    correlationId: options.correlationId,
    replyTo: extra.replyTo ?? options.replyTo,
    timestamp: now,
    subject: options.subject,
    delayMs,
    priority: options.priority === undefined || context.maxPriority === undefined ? options.priority : Math.min(options.priority, context.maxPriority),
    dedupeId: options.dedupeId,
    attempt: 1,
  }
  if (context.claimCheck === undefined) assertFits(message, context)
  return message
}

/** Throws {@link MessageTooLargeError} when the message exceeds the adapter's `maxMessageBytes`. */
export function assertFits(message: OutgoingMessage, context: OutgoingContext): void {
  const size = messageSize(message)
  if (size > context.capabilities.maxMessageBytes)
    throw new MessageTooLargeError(size, context.capabilities.maxMessageBytes, {
      adapter: context.adapter,
    })
}

function checkPriority(context: OutgoingContext): void {
  const { adapter, capabilities } = context
  if (!capabilities.priority) throw new UnsupportedFeatureError(adapter, 'message priority', 'use a separate queue for urgent messages')
  if (capabilities.priorityQueues === 'declared' && context.maxPriority === undefined) {
    throw new UnsupportedFeatureError(
      adapter,
      `message priority on ${context.where}, which was not made with maxPriority`,
      'make the queue with maxPriority (mq.queue(name, { maxPriority: 9 })); whether a queue that already exists without priorities can gain them depends on the broker (its adapter README, "priority")',
    )
  }
}
