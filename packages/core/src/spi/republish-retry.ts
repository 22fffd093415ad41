import type { Destination, IncomingMessage, OutgoingMessage } from './transport.js'
import { wireHeaders } from './wire-headers.js'

/**
 * The message to republish for a retry: same id, body and key, `attempt + 1` recorded in a header,
 * failure bookkeeping merged in. Adapters that retry by republishing (to a delay queue, a retry topic
 * or a sorted set) publish this, then ack the original — at-least-once, never lost.
 */
export function retryCopy(message: IncomingMessage, options: { delayMs: number; headers: Record<string, string> }): OutgoingMessage {
  const attempt = message.attempt + 1
  return republishCopy(message, {
    headers: { ...message.headers, ...options.headers, [wireHeaders.attempt]: String(attempt) },
    attempt,
    delayMs: options.delayMs,
  })
}

/**
 * The one incoming → outgoing copy, behind retries, dead letters and redrive: same id, body, key,
 * correlation, subject and first-sent timestamp; `headers` (replacing the received ones), `attempt`
 * and `delayMs` as given. Priority and dedupe id do not travel on.
 */
export function republishCopy(message: IncomingMessage, changes: { headers: Record<string, string>; attempt: number; delayMs?: number }): OutgoingMessage {
  return {
    id: message.id,
    body: message.body,
    contentType: message.contentType,
    headers: changes.headers,
    key: message.key,
    correlationId: message.correlationId,
    replyTo: message.replyTo,
    timestamp: message.timestamp,
    subject: message.subject,
    delayMs: changes.delayMs ?? 0,
    priority: undefined,
    dedupeId: undefined,
    attempt: changes.attempt,
  }
}

/** Reads the attempt header written by {@link retryCopy}; 1 when absent or malformed. */
export function attemptFromHeaders(headers: Readonly<Record<string, string | undefined>>): number {
  const value = Number(headers[wireHeaders.attempt])
  return Number.isInteger(value) && value >= 1 ? value : 1
}

/** A short text naming a destination for errors and logs. */
export function describeDestination(destination: Destination): string {
  switch (destination.kind) {
    case 'queue':
      return `queue '${destination.queue.name}'`
    case 'topic':
      return `topic '${destination.topic}'`
    case 'subscription':
      return `subscription '${destination.subscription.name ?? '(ephemeral)'}' of topic '${destination.subscription.topic}'`
    case 'inbox':
      return `reply inbox '${destination.address}'`
  }
}
