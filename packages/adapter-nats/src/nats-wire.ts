import { attemptFromHeaders, type IncomingMessage, type OutgoingMessage } from '@anymq/core/spi'
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node'

/**
 * How a message is laid out on NATS: the body is the payload, everything else is a NATS header, so
 * `nats sub`, `nats stream view` and any other client read it (see the README):
 *
 * | header | value |
 * | --- | --- |
 * | `x-anymq-id`, `x-anymq-timestamp`, `x-anymq-content-type` | always |
 * | `x-anymq-key`, `x-anymq-correlation-id`, `x-anymq-reply-to`, `x-anymq-subject` | only when set |
 * | `x-anymq-deliver-at` | epoch ms before which consumers put the message back (delayed delivery) |
 * | `Nats-Msg-Id` | the `dedupeId` of a send: JetStream drops a repeat within the stream's duplicate window |
 * | any other | a user header, or one of anymq's `x-anymq-*` failure headers |
 *
 * NATS header values cannot hold CR or LF and lose leading and trailing blanks, so such a value is
 * sent base64-encoded and its name listed in `x-anymq-encoded`. A header name NATS cannot carry
 * (outside printable ASCII, a colon), one that would break that list (a comma), and one JetStream
 * would act on (`Nats-…`) travel together, base64 JSON, in `x-anymq-packed`.
 */
export const fields = {
  id: 'x-anymq-id',
  timestamp: 'x-anymq-timestamp',
  contentType: 'x-anymq-content-type',
  key: 'x-anymq-key',
  correlationId: 'x-anymq-correlation-id',
  replyTo: 'x-anymq-reply-to',
  subject: 'x-anymq-subject',
  deliverAt: 'x-anymq-deliver-at',
  encoded: 'x-anymq-encoded',
  packed: 'x-anymq-packed',
  messageId: 'Nats-Msg-Id',
} as const

const defaultContentType = 'application/octet-stream'
const metadata = new Set<string>(Object.values(fields))
/** Printable ASCII but colon (what NATS allows in a header name), and no comma (the `x-anymq-encoded` separator). */
const nativeHeaderName = /^[!-+\--9;-~]+$/

function isNativeHeaderName(name: string): boolean {
  return nativeHeaderName.test(name) && !/^nats-/i.test(name)
}

/** The NATS headers for one message; `deliverAt` (epoch ms) when it must wait. */
export function encodeHeaders(message: OutgoingMessage, deliverAt?: number): MsgHdrs {
  const result = natsHeaders()
  const encoded: string[] = []
  const put = (name: string, value: string) => {
    if (/[\r\n]/.test(value) || value !== value.trim()) {
      encoded.push(name)
      result.set(name, Buffer.from(value).toString('base64'))
    } else result.set(name, value)
  }
  put(fields.id, message.id)
  put(fields.timestamp, String(message.timestamp))
  put(fields.contentType, message.contentType)
  if (message.key !== undefined) put(fields.key, message.key)
  if (message.correlationId !== undefined) put(fields.correlationId, message.correlationId)
  if (message.replyTo !== undefined) put(fields.replyTo, message.replyTo)
  if (message.subject !== undefined) put(fields.subject, message.subject)
  if (deliverAt !== undefined) result.set(fields.deliverAt, String(deliverAt))
  if (message.dedupeId !== undefined) result.set(fields.messageId, message.dedupeId)
  const packed: Record<string, string> = {}
  for (const [name, value] of Object.entries(message.headers)) {
    if (isNativeHeaderName(name)) put(name, value)
    else packed[name] = value
  }
  if (encoded.length > 0) result.set(fields.encoded, encoded.join(','))
  if (Object.keys(packed).length > 0) result.set(fields.packed, Buffer.from(JSON.stringify(packed)).toString('base64'))
  return result
}

/** What a received NATS message says about itself, besides the anymq message. */
export interface WireEnvelope {
  message: IncomingMessage
  /** Epoch ms before which it must not be handled, when it was sent with a delay. */
  deliverAt: number | undefined
}

/**
 * Reads one message. `redeliveries` is how often JetStream handed this very stream message out before
 * (not counting the times a consumer put a delayed message back); the attempt is the `x-anymq-attempt`
 * header of a republished retry plus those redeliveries.
 */
export function decodeMessage(data: Uint8Array, header: MsgHdrs | undefined, fallbackTimestamp: number, redeliveries: number): WireEnvelope {
  const values: Record<string, string> = {}
  if (header) {
    for (const name of header.keys()) values[name] = header.get(name)
  }
  for (const name of (values[fields.encoded] ?? '').split(',').filter(Boolean)) {
    const value = values[name]
    if (value !== undefined) values[name] = Buffer.from(value, 'base64').toString()
  }
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(values)) {
    if (!metadata.has(name)) headers[name] = value
  }
  Object.assign(headers, unpack(values[fields.packed]))
  const timestamp = Number(values[fields.timestamp])
  const deliverAt = Number(values[fields.deliverAt])
  return {
    message: {
      id: values[fields.id] ?? `nats-${fallbackTimestamp}-${Math.random().toString(36).slice(2)}`,
      body: data,
      contentType: values[fields.contentType] ?? defaultContentType,
      headers,
      key: values[fields.key],
      correlationId: values[fields.correlationId],
      replyTo: values[fields.replyTo],
      timestamp: Number.isFinite(timestamp) && values[fields.timestamp] !== undefined ? timestamp : fallbackTimestamp,
      subject: values[fields.subject],
      attempt: attemptFromHeaders(headers) + Math.max(0, redeliveries),
    },
    deliverAt: Number.isFinite(deliverAt) && values[fields.deliverAt] !== undefined ? deliverAt : undefined,
  }
}

/** The headers of `x-anymq-packed`; nothing when it is absent or not what anymq writes (a foreign producer's). */
function unpack(value: string | undefined): Record<string, string> {
  if (!value) return {}
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64').toString())
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {}
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== '__proto__'))
  } catch {
    return {}
  }
}
