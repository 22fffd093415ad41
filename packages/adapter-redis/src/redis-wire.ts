import { randomUUID } from 'node:crypto'
import { attemptFromHeaders, type IncomingMessage, type OutgoingMessage } from '@anymq/core/spi'

/**
 * How a message is laid out as the field/value pairs of one stream entry. Other clients read and
 * write the same layout (see the README). anymq writes two fields:
 *
 * | field | value |
 * | --- | --- |
 * | `body` | the encoded body, raw bytes |
 * | `anymq` | a JSON object with the message's properties: `id`, `contentType`, `timestamp` (epoch ms of the first send), and only when set `key`, `correlationId`, `replyTo`, `subject`, `group`, `headers` (an object of strings, anymq's `x-anymq-*` ones included) |
 *
 * Readers also take the layout of one field per property that anymq wrote before (and that other
 * clients may write, see {@link fields}), so entries written by an older producer lose nothing:
 *
 * | field | value |
 * | --- | --- |
 * | `id` | message id (the stream entry id when absent or empty) |
 * | `content-type` | e.g. `application/json` |
 * | `timestamp` | epoch milliseconds of the first send (the entry id's time when absent) |
 * | `key`, `correlation-id`, `reply-to`, `subject` | only when set |
 * | `h:<name>` | one per header |
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
  /** The packed properties (JSON) of the default layout. */
  packed: 'anymq',
} as const

/**
 * Which layout a producer writes: `packed` (the default: `body` and one `anymq` JSON field, two
 * fields for the client to build and parse instead of four or more), or `fields` (one field per
 * property, as anymq wrote before; what readers of an older anymq version, or other clients that read
 * `h:<name>` fields, understand).
 */
export type WireLayout = 'packed' | 'fields'
export const wireLayouts: readonly WireLayout[] = ['packed', 'fields']

/** The properties of the `anymq` field, as JSON. */
interface PackedProperties {
  id: string
  contentType: string
  timestamp: number
  key?: string
  correlationId?: string
  replyTo?: string
  subject?: string
  group?: string
  headers?: Record<string, string>
}

const defaultContentType = 'application/octet-stream'

/**
 * Appends the XADD field/value arguments for one message to `result` (e.g. `['XADD', stream, '*']`)
 * and returns it; `group` addresses one subscription of a topic.
 */
export function entryFields<T extends Array<string | Buffer | number>>(result: T, message: OutgoingMessage, group?: string, layout: WireLayout = 'packed'): T {
  const body = bodyBuffer(message)
  if (layout === 'fields') return separateFields(result, message, body, group)
  result.push(fields.body, body, fields.packed, packedProperties(message, group))
  return result
}

/**
 * The XADD of one message into `stream` (as {@link entryFields} appends it to `['XADD', stream, '*']`):
 * in the default layout one array of its final length, where pushing the fields grew it twice.
 */
export function xadd(stream: string, message: OutgoingMessage, group: string | undefined, layout: WireLayout): Array<string | Buffer> {
  if (layout === 'fields') return entryFields(['XADD', stream, '*'], message, group, layout)
  return ['XADD', stream, '*', fields.body, bodyBuffer(message), fields.packed, packedProperties(message, group)]
}

/** The body as a Buffer (a view, no copy) for the client to write. */
function bodyBuffer(message: OutgoingMessage): Buffer {
  const body = message.body
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
}

/** Text JSON writes between quotes as it is: printable ASCII but the quote and the backslash. */
const plainText = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

function quoted(text: string): string {
  return plainText.test(text) ? `"${text}"` : JSON.stringify(text)
}

/** The last content type quoted, and its JSON text: a producer sends one content type over and over. */
let lastContentType = ''
let lastContentTypeJson = '""'

function quotedContentType(contentType: string): string {
  if (contentType !== lastContentType) {
    lastContentTypeJson = quoted(contentType)
    lastContentType = contentType
  }
  return lastContentTypeJson
}

/**
 * The `anymq` field: the same text as `JSON.stringify` of {@link PackedProperties} (same keys, same
 * order, undefined ones left out), written by hand, which costs about half as much per message.
 */
export function packedProperties(message: OutgoingMessage, group: string | undefined): string {
  const timestamp = Number.isFinite(message.timestamp) ? message.timestamp : null
  let json = `{"id":${quoted(message.id)},"contentType":${quotedContentType(message.contentType)},"timestamp":${timestamp}`
  if (message.key !== undefined) json += `,"key":${quoted(message.key)}`
  if (message.correlationId !== undefined) json += `,"correlationId":${quoted(message.correlationId)}`
  if (message.replyTo !== undefined) json += `,"replyTo":${quoted(message.replyTo)}`
  if (message.subject !== undefined) json += `,"subject":${quoted(message.subject)}`
  if (group !== undefined) json += `,"group":${quoted(group)}`
  for (const _ in message.headers) {
    json += `,"headers":${JSON.stringify(message.headers)}`
    break
  }
  return `${json}}`
}

/** The layout of one field per property ({@link WireLayout} `fields`). */
function separateFields<T extends Array<string | Buffer | number>>(result: T, message: OutgoingMessage, body: Buffer, group: string | undefined): T {
  result.push(fields.id, message.id, fields.body, body, fields.contentType, message.contentType, fields.timestamp, String(message.timestamp))
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
  /** The entry's fields by name, as stored (built when first read: most handlers never look). */
  readonly fields: Record<string, Buffer>
  /** How many times Redis handed this entry to a consumer of the group (1 on the first read). */
  deliveryCount: number
  /** The only subscription this topic entry is for, when it is a retry or a redrive. */
  group: string | undefined
}

class ReadStreamEntry implements RedisEntry {
  private byName: Record<string, Buffer> | undefined
  constructor(
    readonly stream: string,
    readonly entryId: string,
    private readonly pairs: ReadonlyArray<Buffer | string>,
    readonly deliveryCount: number,
    readonly group: string | undefined,
  ) {}

  get fields(): Record<string, Buffer> {
    if (this.byName === undefined) {
      const byName: Record<string, Buffer> = {}
      const pairs = this.pairs
      for (let index = 0; index + 1 < pairs.length; index += 2) byName[textOf(pairs[index] as Buffer | string)] = toBuffer(pairs[index + 1] as Buffer | string)
      this.byName = byName
    }
    return this.byName
  }
}

/** What {@link readEntry} collects from the fields before building the message. */
interface EntryProperties {
  body: Buffer | undefined
  id: string | undefined
  contentType: string | undefined
  timestamp: number | undefined
  key: string | undefined
  correlationId: string | undefined
  replyTo: string | undefined
  subject: string | undefined
  group: string | undefined
  headers: Record<string, string>
}

/**
 * Reads one entry, in either layout (see {@link fields}). `deliveryCount` is Redis' count for this
 * entry in the consumer group; the attempt is the `x-anymq-attempt` header of a republished retry plus
 * the redeliveries of this entry. `shareBody`: the message's body may be the client's own bytes
 * instead of a copy — only when nothing will write to them nor hand them to user code (core's
 * `bodiesReadOnly`).
 */
export function readEntry(stream: string, raw: RawEntry, deliveryCount: number, shareBody = false): { message: IncomingMessage; entry: RedisEntry } {
  const entryId = typeof raw[0] === 'string' ? raw[0] : raw[0].toString()
  const pairs = raw[1] ?? []
  // anymq's own entries (`body`, then `anymq`): the message straight from the parsed field, no record of the properties in between.
  if (
    pairs.length === 4 &&
    isFieldName(pairs[0] as Buffer | string, bodyName, fields.body) &&
    isFieldName(pairs[2] as Buffer | string, packedName, fields.packed)
  ) {
    const packed = parsePacked(textOf(pairs[3] as Buffer | string))
    if (packed !== undefined) {
      const body = toBuffer(pairs[1] as Buffer | string)
      const headers = packedHeaders(packed.headers)
      const id = packed.id
      const message: IncomingMessage = {
        id: typeof id === 'string' && id !== '' ? id : entryId,
        body: shareBody ? body : ownCopy(body),
        contentType: stringOr(packed.contentType) ?? defaultContentType,
        headers,
        key: stringOr(packed.key),
        correlationId: stringOr(packed.correlationId),
        replyTo: stringOr(packed.replyTo),
        timestamp: typeof packed.timestamp === 'number' && Number.isFinite(packed.timestamp) ? packed.timestamp : entryTime(entryId),
        subject: stringOr(packed.subject),
        attempt: (headers === noHeaders ? 1 : attemptFromHeaders(headers)) + Math.max(0, deliveryCount - 1),
      }
      return { message, entry: new ReadStreamEntry(stream, entryId, pairs, deliveryCount, stringOr(packed.group)) }
    }
  }
  const read: EntryProperties = {
    body: undefined,
    id: undefined,
    contentType: undefined,
    timestamp: undefined,
    key: undefined,
    correlationId: undefined,
    replyTo: undefined,
    subject: undefined,
    group: undefined,
    headers: {},
  }
  for (let index = 0; index + 1 < pairs.length; index += 2) {
    const name = pairs[index] as Buffer | string
    const value = pairs[index + 1] as Buffer | string
    // The two fields of the default layout are told by their bytes: no string made for the name.
    if (isFieldName(name, bodyName, fields.body)) read.body = toBuffer(value)
    else if (isFieldName(name, packedName, fields.packed)) readPacked(read, textOf(value))
    else readField(read, textOf(name), textOf(value))
  }
  const { id, body, contentType, timestamp, headers } = read
  const attempt = attemptFromHeaders(headers) + Math.max(0, deliveryCount - 1)
  const message: IncomingMessage = {
    // An entry written by another client without an id (or with an empty one) is named by its entry id.
    id: id !== undefined && id !== '' ? id : entryId,
    body: body === undefined ? new Uint8Array(0) : shareBody ? body : ownCopy(body),
    contentType: contentType ?? defaultContentType,
    headers,
    key: read.key,
    correlationId: read.correlationId,
    replyTo: read.replyTo,
    timestamp: timestamp ?? entryTime(entryId),
    subject: read.subject,
    attempt,
  }
  return { message, entry: new ReadStreamEntry(stream, entryId, pairs, deliveryCount, read.group) }
}

/**
 * The `headers` of a received message without any: one shared, frozen object instead of an empty one
 * per message (core reads a delivery's headers and hands the handler a copy of what it keeps).
 */
const noHeaders: Record<string, string> = Object.freeze({}) as Record<string, string>

/** The parsed `anymq` field, when it is a JSON object; `undefined` for anything else (another client's field of that name). */
function parsePacked(value: string): Partial<Record<keyof PackedProperties, unknown>> | undefined {
  let packed: unknown
  try {
    packed = JSON.parse(value)
  } catch {
    return undefined
  }
  if (typeof packed !== 'object' || packed === null || Array.isArray(packed)) return undefined
  return packed as Partial<Record<keyof PackedProperties, unknown>>
}

/** A property of the `anymq` field when it is a string; properties of the wrong type are left out. */
function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** The string headers of the `anymq` field, in an object of the message's own; {@link noHeaders} when there are none. */
function packedHeaders(headers: unknown): Record<string, string> {
  if (typeof headers !== 'object' || headers === null) return noHeaders
  let own: Record<string, string> | undefined
  for (const name in headers) {
    const header = (headers as Record<string, unknown>)[name]
    if (typeof header === 'string') (own ??= {})[name] = header
  }
  return own ?? noHeaders
}

/** One field of the layout of one field per property; any other field is a header. */
function readField(read: EntryProperties, name: string, value: string): void {
  switch (name) {
    case fields.id:
      read.id = value
      break
    case fields.contentType:
      read.contentType = value
      break
    case fields.timestamp: {
      const parsed = Number(value)
      if (Number.isFinite(parsed)) read.timestamp = parsed
      break
    }
    case fields.key:
      read.key = value
      break
    case fields.correlationId:
      read.correlationId = value
      break
    case fields.replyTo:
      read.replyTo = value
      break
    case fields.subject:
      read.subject = value
      break
    case fields.group:
      read.group = value
      break
    default:
      read.headers[name.startsWith(fields.headerPrefix) ? name.slice(fields.headerPrefix.length) : name] = value
  }
}

/**
 * The `anymq` field. A value that is not a JSON object (another client's own `anymq` field) is a
 * header of that name, as any unknown field; properties of the wrong type are left out.
 */
function readPacked(read: EntryProperties, value: string): void {
  const properties = parsePacked(value)
  if (properties === undefined) {
    read.headers[fields.packed] = value
    return
  }
  if (typeof properties.id === 'string') read.id = properties.id
  if (typeof properties.contentType === 'string') read.contentType = properties.contentType
  if (typeof properties.timestamp === 'number' && Number.isFinite(properties.timestamp)) read.timestamp = properties.timestamp
  if (typeof properties.key === 'string') read.key = properties.key
  if (typeof properties.correlationId === 'string') read.correlationId = properties.correlationId
  if (typeof properties.replyTo === 'string') read.replyTo = properties.replyTo
  if (typeof properties.subject === 'string') read.subject = properties.subject
  if (typeof properties.group === 'string') read.group = properties.group
  const headers = properties.headers
  if (typeof headers === 'object' && headers !== null) {
    for (const name in headers) {
      const header = (headers as Record<string, unknown>)[name]
      if (typeof header === 'string') read.headers[name] = header
    }
  }
}

/**
 * A copy of a body the client handed over as a view into its read buffer (a 64 KiB socket chunk, or
 * ioredis' reply pool), so a message kept by the handler does not keep that whole buffer alive.
 * `Buffer.from` carves copies under 4 KiB out of Node's shared pool: a `memcpy`, where
 * `ArrayBuffer.slice` allocated a backing store per message. Skipped with `shareBody` (core's
 * `bodiesReadOnly`): core decodes the bytes into a new value and keeps no reference to them that a
 * handler could hold beyond `message.raw`, whose field record holds the client's views anyway.
 */
function ownCopy(body: Buffer): Buffer {
  return Buffer.from(body)
}

const bodyName = Buffer.from(fields.body)
const packedName = Buffer.from(fields.packed)

/** Whether a field name (bytes or text) is `text` (whose ASCII bytes are `known`), without decoding the name to a string. */
function isFieldName(name: Buffer | string, known: Buffer, text: string): boolean {
  if (typeof name === 'string') return name === text
  if (name.byteLength !== known.byteLength) return false
  // A loop over four or five bytes is cheaper than a call into `Buffer.equals`.
  for (let index = 0; index < known.byteLength; index++) if (name[index] !== known[index]) return false
  return true
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
export function delayedMember(message: OutgoingMessage, group?: string, level?: number, layout: WireLayout = 'packed'): Buffer {
  const token = level === undefined ? randomUUID() : `p${level}-${randomUUID()}`
  return lengthPrefixed(entryFields([token] as Array<string | Buffer>, message, group, layout))
}

/** The field/value pairs of a member written by {@link delayedMember}, without its token. */
export function memberFields(member: Buffer): Buffer[] {
  return splitLengthPrefixed(member).slice(1)
}

/**
 * A reply sent with PUBLISH instead of XADD (see `redis-inbox.ts`): the entry's field/value pairs,
 * length-prefixed as in {@link delayedMember}, in one payload; no token (a channel keeps nothing).
 */
export function publishedReply(message: OutgoingMessage, layout: WireLayout = 'packed'): Buffer {
  return lengthPrefixed(entryFields([] as Array<string | Buffer>, message, undefined, layout))
}

/** The field/value pairs of a payload written by {@link publishedReply}. */
export function publishedReplyFields(payload: Buffer): Buffer[] {
  return splitLengthPrefixed(payload)
}

/** Parts as `<bytes>:<part>` one after the other: binary-safe, no escaping. */
function lengthPrefixed(parts: ReadonlyArray<string | Buffer>): Buffer {
  const chunks: Buffer[] = []
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : part
    chunks.push(Buffer.from(`${bytes.byteLength}:`), bytes)
  }
  return Buffer.concat(chunks)
}

function splitLengthPrefixed(data: Buffer): Buffer[] {
  const parts: Buffer[] = []
  let position = 0
  while (position < data.byteLength) {
    const colon = data.indexOf(0x3a, position)
    const length = Number(data.subarray(position, colon).toString())
    parts.push(data.subarray(colon + 1, colon + 1 + length))
    position = colon + 1 + length
  }
  return parts
}
