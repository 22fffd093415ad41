import { createHash, randomUUID } from 'node:crypto'
import { type IncomingMessage, isReservedHeader, MessageTooLargeError, type OutgoingMessage, PublishError, wireHeaders } from '@anymq/core/spi'
import type { MessageAttributeValue, Message as SqsMessage } from '@aws-sdk/client-sqs'
import { decodeEventMessage } from './aws-eventbridge-format.js'

/**
 * The wire format: how an anymq message travels as an SQS message (and as an SNS publish with raw
 * delivery, which arrives in the subscription queue as the very same SQS message).
 *
 * - Message body: the encoded body as UTF-8 text when it is valid UTF-8 made only of characters SQS
 *   accepts (any JSON or text body). Otherwise (binary, empty, or text with characters like U+0000)
 *   the body is a short marker and the bytes travel in the Binary attribute `anymq.body`.
 * - Attribute `anymq` (String): JSON with the fields SQS has no native place for:
 *   `{"v":1,"id","timestamp","contentType","key","correlationId","replyTo","subject","headers","body"}`;
 *   `headers` holds anymq's reserved `x-anymq-*` headers and any user header whose name or value is
 *   not allowed as an SQS attribute; `body` is `"binary"` or `"empty"` when the body is not the text.
 * - Every other user header is its own String attribute with the same name, so SNS filter policies
 *   and other clients see it.
 * - FIFO: `MessageGroupId` = the key (the message id for unkeyed messages); `MessageDeduplicationId`
 *   = the dedupe id, else a fresh UUID (a retried request is not duplicated, a new send never dropped).
 * - On receive, `attempt` is SQS's `ApproximateReceiveCount`.
 *
 * SQS allows 10 attributes per message: anymq uses one (two for a binary body), so a message carries
 * at most 9 (8) headers as attributes; more is refused with a `PublishError` before anything is sent.
 */
export const metaAttribute = 'anymq'
export const bodyAttribute = 'anymq.body'
export const binaryBodyMarker = '[anymq: binary body in message attribute anymq.body]'
export const maxAttributes = 10

const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
/** Characters SQS refuses in bodies and attribute values (outside the XML 1.0 character range). */
const invalidCharacter = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u
const invalidCharacters = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu
/** Characters SQS/SNS accept in MessageGroupId and MessageDeduplicationId. */
const fifoIdPattern = /^[\x21-\x7e]{1,128}$/

interface Meta {
  v: 1
  id: string
  timestamp: number
  contentType: string
  key?: string
  correlationId?: string
  replyTo?: string
  subject?: string
  headers?: Record<string, string>
  body?: 'binary' | 'empty'
}

/** One message ready for SendMessage(Batch) / Publish(Batch). */
export interface WireMessage {
  source: OutgoingMessage
  body: string
  attributes: Record<string, MessageAttributeValue>
  /** Bytes as SQS counts them: body plus every attribute's name, type and value. */
  size: number
  delaySeconds: number
  groupId: string | undefined
  deduplicationId: string | undefined
}

export function encodeMessage(message: OutgoingMessage, options: { fifo: boolean; ordered: boolean; maxBytes: number; adapter: string }): WireMessage {
  const meta: Meta = {
    v: 1,
    id: message.id,
    timestamp: message.timestamp,
    contentType: message.contentType,
  }
  if (message.key !== undefined) meta.key = message.key
  if (message.correlationId !== undefined) meta.correlationId = message.correlationId
  if (message.replyTo !== undefined) meta.replyTo = message.replyTo
  if (message.subject !== undefined) meta.subject = message.subject
  const attributes: Record<string, MessageAttributeValue> = {}
  const packed: Record<string, string> = {}
  for (const [name, value] of Object.entries(message.headers)) {
    if (isReservedHeader(name) || !isAttributeName(name) || value === '' || invalidCharacter.test(value)) packed[name] = value
    else attributes[name] = { DataType: 'String', StringValue: value }
  }
  if (Object.keys(packed).length > 0) meta.headers = packed
  let body: string
  const text = bodyText(message.body)
  if (text !== undefined) body = text
  else {
    body = binaryBodyMarker
    if (message.body.byteLength === 0) meta.body = 'empty'
    else {
      meta.body = 'binary'
      attributes[bodyAttribute] = { DataType: 'Binary', BinaryValue: message.body }
    }
  }
  attributes[metaAttribute] = { DataType: 'String', StringValue: safeJson(meta) }
  const count = Object.keys(attributes).length
  if (count > maxAttributes) {
    const anymqOwn = meta.body === 'binary' ? 2 : 1
    throw new PublishError(
      `message ${message.id} has ${count - anymqOwn} headers that become SQS message attributes, but SQS allows ${maxAttributes} attributes per message and anymq uses ${anymqOwn}: send at most ${maxAttributes - anymqOwn} headers (or fold some into the body)`,
      { adapter: options.adapter, retryable: false },
    )
  }
  let size = encoder.encode(body).byteLength
  for (const [name, value] of Object.entries(attributes)) {
    size += encoder.encode(name).byteLength + encoder.encode(value.DataType ?? '').byteLength
    size += value.BinaryValue ? value.BinaryValue.byteLength : encoder.encode(value.StringValue ?? '').byteLength
  }
  if (size > options.maxBytes) throw new MessageTooLargeError(size, options.maxBytes, { adapter: options.adapter })
  return {
    source: message,
    body,
    attributes,
    size,
    delaySeconds: Math.min(900, Math.ceil(message.delayMs / 1000)),
    groupId: options.fifo ? fifoId(options.ordered && message.key !== undefined ? message.key : message.id) : undefined,
    deduplicationId: options.fifo ? fifoId(message.dedupeId ?? randomUUID()) : undefined,
  }
}

/** An SQS message (sent by anymq or by any other client) as core sees it. */
export function decodeMessage(message: SqsMessage): IncomingMessage {
  const attributes = message.MessageAttributes ?? {}
  const system = message.Attributes ?? {}
  const meta = parseMeta(attributes[metaAttribute]?.StringValue)
  // Delivered by an EventBridge rule (`topics=eventbridge`): the anymq message is the event's detail.
  const event = meta ? undefined : decodeEventMessage(message)
  if (event) {
    noteFirstFailure(event.headers, event.attempt, system)
    return event
  }
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(attributes)) {
    if (meta && (name === metaAttribute || name === bodyAttribute)) continue
    if (value.StringValue !== undefined) headers[name] = value.StringValue
    else if (value.BinaryValue !== undefined) headers[name] = Buffer.from(value.BinaryValue).toString('base64')
  }
  if (meta?.headers) Object.assign(headers, meta.headers)
  const attempt = Math.max(1, Number(system.ApproximateReceiveCount ?? 1) || 1)
  noteFirstFailure(headers, attempt, system)
  let body: Uint8Array
  if (meta?.body === 'binary') body = toBytes(attributes[bodyAttribute]?.BinaryValue)
  else if (meta?.body === 'empty') body = new Uint8Array(0)
  else body = encoder.encode(message.Body ?? '')
  return {
    id: meta?.id ?? message.MessageId ?? '',
    body,
    contentType: meta?.contentType ?? 'text/plain; charset=utf-8',
    headers,
    key: meta ? meta.key : system.MessageGroupId,
    correlationId: meta?.correlationId,
    replyTo: meta?.replyTo,
    timestamp: meta?.timestamp ?? (Number(system.SentTimestamp) || Date.now()),
    subject: meta?.subject,
    attempt,
  }
}

/**
 * Retries keep the message where it is (ChangeMessageVisibility), so the first failure time is not
 * written anywhere; the first receive is the closest record SQS keeps of it.
 */
function noteFirstFailure(headers: Record<string, string>, attempt: number, system: Partial<Record<string, string>>): void {
  const firstReceive = Number(system.ApproximateFirstReceiveTimestamp)
  if (attempt > 1 && headers[wireHeaders.firstFailureAt] === undefined && Number.isFinite(firstReceive)) {
    headers[wireHeaders.firstFailureAt] = String(firstReceive)
  }
}

function parseMeta(text: string | undefined): Meta | undefined {
  if (text === undefined) return undefined
  try {
    const value = JSON.parse(text) as Meta
    if (typeof value !== 'object' || value === null || value.v !== 1 || typeof value.id !== 'string') return undefined
    return value
  } catch {
    return undefined
  }
}

function toBytes(value: Uint8Array | string | undefined): Uint8Array {
  if (value === undefined) return new Uint8Array(0)
  if (typeof value === 'string') return new Uint8Array(Buffer.from(value, 'base64'))
  return new Uint8Array(value)
}

/** The body as SQS-safe text, or undefined when it must travel as binary. */
function bodyText(body: Uint8Array): string | undefined {
  if (body.byteLength === 0) return undefined
  let text: string
  try {
    text = strictDecoder.decode(body)
  } catch {
    return undefined
  }
  return invalidCharacter.test(text) ? undefined : text
}

/** SQS message attribute names: letters, digits, `_-.`, no leading/trailing/double dot, not `AWS.`/`Amazon.`, not ours. */
export function isAttributeName(name: string): boolean {
  if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name)) return false
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) return false
  if (/^(aws|amazon)\./i.test(name)) return false
  return name !== metaAttribute && !name.startsWith(`${metaAttribute}.`)
}

/** JSON that contains only characters SQS accepts (JSON.stringify leaves U+FFFE/U+FFFF as they are). */
function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(invalidCharacters, (character) => {
    const code = character.codePointAt(0) ?? 0
    return `\\u${code.toString(16).padStart(4, '0')}`
  })
}

function fifoId(value: string): string {
  return fifoIdPattern.test(value) ? value : `h-${createHash('sha256').update(value).digest('hex')}`
}
