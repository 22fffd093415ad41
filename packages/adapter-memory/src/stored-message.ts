import { copyBytes, type IncomingMessage, type OutgoingMessage } from '@anymq/core/spi'

/** A message as the memory broker stores it: bytes and strings, never the sender's objects. */
export interface StoredMessage {
  message: IncomingMessage
  priority: number
}

/**
 * What the broker keeps of a sent message: its own object and headers, and the body's bytes as they
 * are — core never lets the sender or a codec write to an outgoing body (`OutgoingMessage.body`), and
 * every delivery gets a copy of its own.
 */
export function toStored(message: OutgoingMessage): StoredMessage {
  return {
    priority: message.priority ?? 0,
    message: {
      id: message.id,
      body: message.body,
      contentType: message.contentType,
      headers: copyHeaders(message.headers, undefined),
      key: message.key,
      correlationId: message.correlationId,
      replyTo: message.replyTo,
      timestamp: message.timestamp,
      subject: message.subject,
      attempt: message.attempt,
    },
  }
}

/** The headers of every message sent without any: one frozen object, not an empty one per copy. */
const noHeaders: Record<string, string> = Object.freeze({})

/** A private copy of headers, plus `extra` (failure bookkeeping of a retry). */
function copyHeaders(headers: Record<string, string>, extra: Record<string, string> | undefined): Record<string, string> {
  if (extra === undefined) {
    // for…in rather than Object.keys: no array to find out that there is nothing to copy.
    for (const _ in headers) return { ...headers }
    return noHeaders
  }
  return { ...headers, ...extra }
}

/** A deep copy: handlers may mutate what they get without touching what is stored. `body`: the bytes to carry, a copy unless given. */
export function copyMessage(
  message: IncomingMessage,
  attempt = message.attempt,
  extraHeaders?: Record<string, string>,
  body: Uint8Array = copyBytes(message.body),
): IncomingMessage {
  return {
    id: message.id,
    body,
    contentType: message.contentType,
    headers: copyHeaders(message.headers, extraHeaders),
    key: message.key,
    correlationId: message.correlationId,
    replyTo: message.replyTo,
    timestamp: message.timestamp,
    subject: message.subject,
    attempt,
  }
}

/**
 * The message of one delivery: a private copy, or the stored message itself when core only reads it
 * (`bodiesReadOnly`: core writes to no delivered message and hands neither its bytes nor its headers
 * object to a handler), which saves an object per delivery. A stored message is never written to: a
 * retry or a redelivery stores a new one ({@link redelivery}).
 */
export function deliveredMessage(message: IncomingMessage, bodiesReadOnly: boolean): IncomingMessage {
  return bodiesReadOnly ? message : copyMessage(message)
}

/** Another stored copy of the same message (one per topic subscription). */
export function copyStored(stored: StoredMessage): StoredMessage {
  return { priority: stored.priority, message: copyMessage(stored.message) }
}

/** The stored message of its next delivery: a copy with the attempt one higher (and a retry's failure headers). */
export function redelivery(stored: StoredMessage, extraHeaders?: Record<string, string>): StoredMessage {
  return { priority: stored.priority, message: copyMessage(stored.message, stored.message.attempt + 1, extraHeaders) }
}
