import { type IncomingMessage, MessageTooLargeError, type OutgoingMessage } from '@anymq/core/spi'
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge'
import type { Message as SqsMessage } from '@aws-sdk/client-sqs'
import { eventDetailType } from './aws-names.js'

/**
 * How an anymq message travels as an EventBridge event (`topics=eventbridge`):
 *
 * - `Source` is `anymq`, `DetailType` the topic (see `eventDetailType`), `Time` the send time.
 * - `Detail` is `{"anymq":1,"id","timestamp","contentType","key","correlationId","replyTo","subject",
 *   "headers":{…},"body":"…","encoding":"utf8"|"base64"}`: every header (user and `x-anymq-*`) as a
 *   field of `headers`, so a rule matches `detail.headers.<name>`, and any other consumer of the bus
 *   reads the message without anymq.
 * - A rule's SQS target receives the whole event as the SQS message body (no input transformer):
 *   `{"version","id","detail-type","source",…,"detail":{…}}`; {@link decodeEventMessage} reads it back.
 *   An event another client put on the bus with source `anymq` and the topic as detail-type is
 *   consumed too: its detail is the (JSON) body, its event id the message id.
 */
export const eventSource = 'anymq'

/** PutEvents counts Source, DetailType, Detail, Resources and 14 bytes for Time against its 256 KiB. */
const timeEntryBytes = 14

interface EventDetail {
  anymq: 1
  id: string
  timestamp: number
  contentType: string
  key?: string
  correlationId?: string
  replyTo?: string
  subject?: string
  headers: Record<string, string>
  body: string
  encoding: 'utf8' | 'base64'
}

export interface EventEntry {
  source: OutgoingMessage
  entry: PutEventsRequestEntry
  /** Bytes as PutEvents counts them. */
  size: number
}

const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function encodeEvent(message: OutgoingMessage, options: { topic: string; eventBus: string; maxBytes: number; adapter: string }): EventEntry {
  const text = utf8(message.body)
  const detail: EventDetail = {
    anymq: 1,
    id: message.id,
    timestamp: message.timestamp,
    contentType: message.contentType,
    headers: { ...message.headers },
    body: text ?? Buffer.from(message.body).toString('base64'),
    encoding: text === undefined ? 'base64' : 'utf8',
  }
  if (message.key !== undefined) detail.key = message.key
  if (message.correlationId !== undefined) detail.correlationId = message.correlationId
  if (message.replyTo !== undefined) detail.replyTo = message.replyTo
  if (message.subject !== undefined) detail.subject = message.subject
  const entry: PutEventsRequestEntry = {
    Source: eventSource,
    DetailType: eventDetailType(options.topic),
    Detail: JSON.stringify(detail),
    EventBusName: options.eventBus,
    Time: new Date(message.timestamp),
  }
  const size = encoder.encode(entry.Source).byteLength + encoder.encode(entry.DetailType).byteLength + encoder.encode(entry.Detail).byteLength + timeEntryBytes
  if (size > options.maxBytes) throw new MessageTooLargeError(size, options.maxBytes, { adapter: options.adapter })
  return { source: message, entry, size }
}

/**
 * The anymq message in an SQS message that an EventBridge rule delivered, or `undefined` when the
 * body is not an anymq event (then it is an ordinary SQS message, e.g. one redriven into the queue).
 */
export function decodeEventMessage(message: SqsMessage): IncomingMessage | undefined {
  const text = message.Body
  if (text === undefined || !text.startsWith('{')) return undefined
  let event: { id?: unknown; time?: unknown; source?: unknown; detail?: EventDetail }
  try {
    event = JSON.parse(text) as typeof event
  } catch {
    return undefined
  }
  const detail = event.detail
  if (event.source !== eventSource || typeof detail !== 'object' || detail === null) return undefined
  const system = message.Attributes ?? {}
  if (detail.anymq !== 1 || typeof detail.id !== 'string' || typeof detail.body !== 'string') {
    // Put on the bus by another client (`aws events put-events`, an SDK) for this topic: the detail is the body.
    return {
      id: typeof event.id === 'string' ? event.id : (message.MessageId ?? ''),
      body: encoder.encode(JSON.stringify(detail)),
      contentType: 'application/json',
      headers: {},
      key: undefined,
      correlationId: undefined,
      replyTo: undefined,
      timestamp: (typeof event.time === 'string' ? Date.parse(event.time) : Number.NaN) || Number(system.SentTimestamp) || Date.now(),
      subject: undefined,
      attempt: Math.max(1, Number(system.ApproximateReceiveCount ?? 1) || 1),
    }
  }
  return {
    id: detail.id,
    body: detail.encoding === 'base64' ? new Uint8Array(Buffer.from(detail.body, 'base64')) : encoder.encode(detail.body),
    contentType: typeof detail.contentType === 'string' ? detail.contentType : 'application/octet-stream',
    headers: { ...(detail.headers ?? {}) },
    key: detail.key,
    correlationId: detail.correlationId,
    replyTo: detail.replyTo,
    timestamp: typeof detail.timestamp === 'number' ? detail.timestamp : Number(system.SentTimestamp) || Date.now(),
    subject: detail.subject,
    attempt: Math.max(1, Number(system.ApproximateReceiveCount ?? 1) || 1),
  }
}

function utf8(body: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(body)
  } catch {
    return undefined
  }
}
