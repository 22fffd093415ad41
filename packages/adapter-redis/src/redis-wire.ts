import { randomUUID } from 'node:crypto'
import { attemptFromHeaders, type IncomingMessage, type OutgoingMessage } from '@anymq/core/spi'

/**
 * How a message is laid out as the field/value pairs of one stream entry. Other clients read and
 * write the same layout (see the README):
 *
 * | field | value |
 * | --- | --- |
 * | `id` | message id (the stream entry id when absent or empty) |
 * | `body` | the encoded body, raw bytes |
 * | `content-type` | e.g. `application/json` |
 * | `timestamp` | epoch milliseconds of the first send (the entry id's time when absent) |
 * | `key`, `correlation-id`, `reply-to`, `subject` | only when set |
 * | `h:<name>` | one per header, anymq's `x-anymq-*` ones included (`h:x-anymq-attempt`…) |
 * | `group` | on a topic stream only: the one subscription (consumer group) this entry is for, a retry or a redrive; the others skip it |
 *
 * Any other field of an entry written by another client is read as a header of that name.
 */
export const fields = {
  id: 'id',
  body: 'body',
  contentType: 'content-type',
  timestamp: 'timestamp',
  key: 'key',
  correlationId: 'correlation-id',
  replyTo: 'reply-to',
  subject: 'subject',
  group: 'group',
  headerPrefix: 'h:',
} as const

const defaultContentType = 'application/octet-stream'

/**
 * Appends the XADD field/value arguments for one message to `result` (e.g. `['XADD', stream, '*']`)
 * and returns it; `group` addresses one subscription of a topic.
 */
export function entryFields<T extends Array<string | Buffer | number>>(result: T, message: OutgoingMessage, group?: string): T {
  result.push(
    fields.id,
    message.id,
    fields.body,
    Buffer.isBuffer(message.body) ? message.body : Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
    fields.contentType,
    message.contentType,
    fields.timestamp,
    String(message.timestamp),
  )
  if (message.key !== undefined) result.push(fields.key, message.key)
  if (message.correlationId !== undefined) result.push(fields.correlationId, message.correlationId)
  if (message.replyTo !== undefined) result.push(fields.replyTo, message.replyTo)
  if (message.subject !== undefined) result.push(fields.subject, message.subject)
  if (group !== undefined) result.push(fields.group, group)
  // Keys, not entries: no [name, value] array per header (nor an empty array for a message without headers).
  const headers = message.headers
  for (const name in headers) result.push(`${fields.headerPrefix}${name}`, headers[name] as string)
  return result
}

/** A stream entry as a driver returns it for a binary call: `[id, [field, value, …]]`. */
export type RawEntry = [Buffer | string, Array<Buffer | string> | null]

/** The native entry handed to handlers as `message.raw`. */
export interface RedisEntry {
  stream: string
  entryId: string
  fields: Record<string, Buffer>
  /** How many times Redis handed this entry to a consumer of the group (1 on the first read). */
  deliveryCount: number
  /** The only subscription this topic entry is for, when it is a retry or a redrive. */
  group: string | undefined
}

/**
 * Reads one entry. `deliveryCount` is Redis' count for this entry in the consumer group; the attempt
 * is the `x-anymq-attempt` header of a republished retry plus the redeliveries of this entry.
 */
export function readEntry(stream: string, raw: RawEntry, deliveryCount: number): { message: IncomingMessage; entry: RedisEntry } {
  const entryId = typeof raw[0] === 'string' ? raw[0] : raw[0].toString()
  const pairs = raw[1] ?? []
  const entryFieldsByName: Record<string, Buffer> = {}
  const headers: Record<string, string> = {}
  let body: Buffer | undefined
  let id: string | undefined
  let contentType: string | undefined
  let timestamp: number | undefined
  let key: string | undefined
  let correlationId: string | undefined
  let replyTo: string | undefined
  let subject: string | undefined
  let group: string | undefined
  for (let index = 0; index + 1 < pairs.length; index += 2) {
    const name = textOf(pairs[index] as Buffer | string)
    const value = toBuffer(pairs[index + 1] as Buffer | string)
    entryFieldsByName[name] = value
    switch (name) {
      case fields.body:
        body = value
        break
      case fields.id:
        id = textOf(value)
        break
      case fields.contentType:
        contentType = textOf(value)
        break
      case fields.timestamp: {
        const parsed = Number(textOf(value))
        if (Number.isFinite(parsed)) timestamp = parsed
        break
      }
      case fields.key:
        key = textOf(value)
        break
      case fields.correlationId:
        correlationId = textOf(value)
        break
      case fields.replyTo:
        replyTo = textOf(value)
        break
      case fields.subject:
        subject = textOf(value)
        break
      case fields.group:
        group = textOf(value)
        break
      default:
        headers[name.startsWith(fields.headerPrefix) ? name.slice(fields.headerPrefix.length) : name] = textOf(value)
    }
  }
  const attempt = attemptFromHeaders(headers) + Math.max(0, deliveryCount - 1)
  const message: IncomingMessage = {
    // An entry written by another client without an id (or with an empty one) is named by its entry id.
    id: id !== undefined && id !== '' ? id : entryId,
    body: body === undefined ? new Uint8Array(0) : ownCopy(body),
    contentType: contentType ?? defaultContentType,
    headers,
    key,
    correlationId,
    replyTo,
    timestamp: timestamp ?? entryTime(entryId),
    subject,
    attempt,
  }
  return { message, entry: { stream, entryId, fields: entryFieldsByName, deliveryCount, group } }
}

/**
 * A copy of a body the client handed over as a view into its read buffer (a 64 KiB socket chunk, or
 * ioredis' reply pool), so a message kept by the handler does not keep that whole buffer alive.
 * `Buffer.from` carves copies under 4 KiB out of Node's shared pool: a `memcpy`, where
 * `ArrayBuffer.slice` allocated a backing store per message.
 */
function ownCopy(body: Buffer): Buffer {
  return Buffer.from(body)
}

/** UTF-8 text of a field name or value (`toString()` without arguments is Node's fast path). */
function textOf(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString()
}

/** The millisecond part of a stream entry id. */
export function entryTime(entryId: string): number {
  const time = Number(entryId.split('-')[0])
  return Number.isFinite(time) ? time : Date.now()
}

function toBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value) : value
}

/**
 * A delayed message as a member of the delay sorted set: length-prefixed parts (`<bytes>:<part>`), a
 * unique token first so equal messages stay distinct members, then the XADD field/value pairs the
 * mover script writes into the stream when the message is due. The same member waits in a priority
 * queue's waiting set; there the token is `p<level>-<uuid>`, so the scripts know its priority
 * (`level`: the message's priority, 0 when it has none).
 */
export function delayedMember(message: OutgoingMessage, group?: string, level?: number): Buffer {
  const token = level === undefined ? randomUUID() : `p${level}-${randomUUID()}`
  const parts = [
    Buffer.from(token),
    ...entryFields([] as Array<string | Buffer>, message, group).map((part) => (typeof part === 'string' ? Buffer.from(part) : part)),
  ]
  const chunks: Buffer[] = []
  for (const part of parts) chunks.push(Buffer.from(`${part.byteLength}:`), part)
  return Buffer.concat(chunks)
}

/** The field/value pairs of a member written by {@link delayedMember}, without its token. */
export function memberFields(member: Buffer): Buffer[] {
  const parts: Buffer[] = []
  let position = 0
  while (position < member.byteLength) {
    const colon = member.indexOf(0x3a, position)
    const length = Number(member.subarray(position, colon).toString())
    parts.push(member.subarray(colon + 1, colon + 1 + length))
    position = colon + 1 + length
  }
  return parts.slice(1)
}
