import { copyBytes, type IncomingMessage, type OutgoingMessage } from '@anymq/core/spi'

/** A message as the memory broker stores it: bytes and strings, never the sender's objects. */
export interface StoredMessage {
  message: IncomingMessage
  priority: number
}

/** What the broker keeps of a sent message: a private copy of its bytes and headers. */
export function toStored(message: OutgoingMessage): StoredMessage {
  // An outgoing message has every field of an incoming one: the same copy takes exactly those.
  return { priority: message.priority ?? 0, message: copyMessage(message) }
}

/** A deep copy: handlers may mutate what they get without touching what is stored. */
export function copyMessage(message: IncomingMessage, attempt = message.attempt): IncomingMessage {
  return {
    id: message.id,
    body: copyBytes(message.body),
    contentType: message.contentType,
    headers: { ...message.headers },
    key: message.key,
    correlationId: message.correlationId,
    replyTo: message.replyTo,
    timestamp: message.timestamp,
    subject: message.subject,
    attempt,
  }
}

/** Another stored copy of the same message (one per topic subscription). */
export function copyStored(stored: StoredMessage): StoredMessage {
  return { priority: stored.priority, message: copyMessage(stored.message) }
}

/** The stored message of its next delivery: a copy with the attempt one higher. */
export function redelivery(stored: StoredMessage): StoredMessage {
  return { priority: stored.priority, message: copyMessage(stored.message, stored.message.attempt + 1) }
}
