import { attemptFromHeaders, type IncomingMessage, isReservedHeader, type OutgoingMessage } from '@anymq/core/spi'

/** The fields of a Pub/Sub `PubsubMessage` anymq reads and writes. */
export interface PubSubWireMessage {
  data?: Uint8Array | string | null
  attributes?: Record<string, string> | null
  messageId?: string | null
  publishTime?: { seconds?: number | string | { toString(): string } | null; nanos?: number | null } | null
  orderingKey?: string | null
}

/**
 * How a message is laid out on Pub/Sub: the body is the message data, the key is the ordering key
 * (and the `x-anymq-key` attribute, for queues published without ordering keys),
 * everything else is an attribute, so `gcloud pubsub subscriptions pull` or any client reads it:
 *
 * | attribute | value |
 * | --- | --- |
 * | `x-anymq-id`, `x-anymq-timestamp`, `x-anymq-content-type` | always |
 * | `x-anymq-correlation-id`, `x-anymq-reply-to`, `x-anymq-subject` | only when set |
 * | `x-anymq-deliver-at` | epoch ms before which consumers put the message back (delayed delivery) |
 * | `x-anymq-to` | on a topic: the one subscription a retry or redrive is for; the others skip it |
 * | any other | a user header, or one of anymq's `x-anymq-*` failure headers |
 *
 * Pub/Sub allows attribute names up to 256 bytes (not starting with `goog`) and values up to 1024
 * bytes. A user header that does not fit travels in `x-anymq-headers-0`, `-1`, … (base64 JSON of all
 * such headers, cut in 1024-byte pieces), so it comes back as sent; anymq's own failure headers (a
 * long error message) are cut at 1024 bytes instead.
 */
export const fields = {
  id: 'x-anymq-id',
  timestamp: 'x-anymq-timestamp',
  contentType: 'x-anymq-content-type',
  correlationId: 'x-anymq-correlation-id',
  replyTo: 'x-anymq-reply-to',
  subject: 'x-anymq-subject',
  key: 'x-anymq-key',
  deliverAt: 'x-anymq-deliver-at',
  to: 'x-anymq-to',
  packedPrefix: 'x-anymq-headers-',
} as const

const maxAttributeBytes = 1024
const maxAttributeNameBytes = 256
const defaultContentType = 'application/octet-stream'
const metadata = new Set<string>(Object.values(fields))

function isAttribute(name: string, value: string): boolean {
  return name !== '' && Buffer.byteLength(name) <= maxAttributeNameBytes && !name.startsWith('goog') && Buffer.byteLength(value) <= maxAttributeBytes
}

export function encodeMessage(
  message: OutgoingMessage,
  options: { deliverAt?: number; to?: string; ordered?: boolean } = {},
): { data: Uint8Array; attributes: Record<string, string>; orderingKey: string } {
  const attributes: Record<string, string> = {}
  const put = (name: string, value: string | undefined) => {
    if (value !== undefined) attributes[name] = truncate(value)
  }
  put(fields.id, message.id)
  put(fields.timestamp, String(message.timestamp))
  put(fields.contentType, message.contentType)
  put(fields.correlationId, message.correlationId)
  put(fields.replyTo, message.replyTo)
  put(fields.subject, message.subject)
  put(fields.key, message.key)
  put(fields.deliverAt, options.deliverAt === undefined ? undefined : String(options.deliverAt))
  put(fields.to, options.to)
  const packed: Record<string, string> = {}
  for (const [name, value] of Object.entries(message.headers)) {
    if (isReservedHeader(name) || isAttribute(name, value)) put(name, value)
    else packed[name] = value
  }
  if (Object.keys(packed).length > 0) {
    const text = Buffer.from(JSON.stringify(packed)).toString('base64')
    for (let index = 0; index * maxAttributeBytes < text.length; index++) {
      attributes[`${fields.packedPrefix}${index}`] = text.slice(index * maxAttributeBytes, (index + 1) * maxAttributeBytes)
    }
  }
  // A message that must wait (a delay, a retry's backoff) is held unacknowledged until due, and Pub/Sub
  // hands out nothing of an ordering key behind an unacknowledged message: with its key as ordering key
  // it held up every later message of that key. Its key still travels as `x-anymq-key`.
  const waits = options.deliverAt !== undefined
  return { data: message.body, attributes, orderingKey: options.ordered === false || waits ? '' : (message.key ?? '') }
}

export interface WireEnvelope {
  message: IncomingMessage
  deliverAt: number | undefined
  to: string | undefined
  publishedAt: number
}

/** Reads one received message; `redeliveries` are added to the attempt of the `x-anymq-attempt` header. */
export function decodeMessage(raw: PubSubWireMessage, redeliveries: number): WireEnvelope {
  const attributes = raw.attributes ?? {}
  const headers: Record<string, string> = {}
  const pieces: string[] = []
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith(fields.packedPrefix)) pieces[Number(name.slice(fields.packedPrefix.length))] = value
    else if (!metadata.has(name)) headers[name] = value
  }
  Object.assign(headers, unpack(pieces))
  const publishedAt = Number(String(raw.publishTime?.seconds ?? 0)) * 1000 + Math.floor((raw.publishTime?.nanos ?? 0) / 1_000_000)
  const timestamp = Number(attributes[fields.timestamp])
  const deliverAt = Number(attributes[fields.deliverAt])
  const data = raw.data ?? new Uint8Array(0)
  return {
    message: {
      id: attributes[fields.id] ?? raw.messageId ?? '',
      body: typeof data === 'string' ? Buffer.from(data, 'base64') : new Uint8Array(data),
      contentType: attributes[fields.contentType] ?? defaultContentType,
      headers,
      key: raw.orderingKey ? raw.orderingKey : attributes[fields.key],
      correlationId: attributes[fields.correlationId],
      replyTo: attributes[fields.replyTo],
      timestamp: attributes[fields.timestamp] !== undefined && Number.isFinite(timestamp) ? timestamp : publishedAt,
      subject: attributes[fields.subject],
      attempt: attemptFromHeaders(headers) + Math.max(0, redeliveries),
    },
    deliverAt: attributes[fields.deliverAt] !== undefined && Number.isFinite(deliverAt) ? deliverAt : undefined,
    to: attributes[fields.to],
    publishedAt,
  }
}

function truncate(value: string): string {
  const bytes = Buffer.from(value)
  if (bytes.byteLength <= maxAttributeBytes) return value
  // Cut on a character boundary: decoding a partial sequence would add a replacement character.
  let end = maxAttributeBytes
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--
  return bytes.subarray(0, end).toString()
}

/** The headers packed in `x-anymq-headers-*`; nothing when a piece is missing or it is not what anymq writes. */
function unpack(pieces: string[]): Record<string, string> {
  if (pieces.length === 0) return {}
  try {
    const parsed: unknown = JSON.parse(Buffer.from(pieces.join(''), 'base64').toString())
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {}
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== '__proto__'))
  } catch {
    return {}
  }
}
