import { createHash } from 'node:crypto'
import { attemptFromHeaders, type IncomingMessage, type OutgoingMessage, wireHeaders } from '@anymq/core/spi'
import type { KafkaContentTypeHeader } from './kafka-config.js'
import type { DriverOutgoingRecord, DriverRecord } from './kafka-driver.js'

/**
 * How an anymq message sits in a Kafka record. Body = record value, key = record key, timestamp =
 * record timestamp; the rest travel as headers any client can read (UTF-8 strings). User headers keep
 * their names; anymq's own start with `x-anymq-`.
 */
export const kafkaHeaders = {
  id: 'x-anymq-id',
  contentType: 'x-anymq-content-type',
  correlationId: 'x-anymq-correlation-id',
  replyTo: 'x-anymq-reply-to',
  subject: 'x-anymq-subject',
  /** On records of a redelivery topic: epoch milliseconds before which the record is not delivered. */
  dueAt: 'x-anymq-due-at',
} as const

/**
 * The content type of an anymq record (one with a non-empty `x-anymq-id`) that carries no
 * `x-anymq-content-type`: written so by default (`contentTypeHeader=unlessJson`). Older anymq versions
 * always wrote the header, so no record of theirs is read differently.
 */
const impliedContentType = 'application/json'
/** The content type of a foreign record without `x-anymq-content-type`. */
const foreignContentType = 'application/octet-stream'

export function toRecord(message: OutgoingMessage, contentTypeHeader: KafkaContentTypeHeader, dueAt?: number): DriverOutgoingRecord {
  const headers: Record<string, string> = {}
  const given = message.headers
  // Copied key by key rather than spread-then-delete: a `delete` turns the object into a slow dictionary.
  for (const name in given) if (name !== wireHeaders.attempt) headers[name] = given[name] as string
  if (message.attempt > 1) headers[wireHeaders.attempt] = String(message.attempt)
  headers[kafkaHeaders.id] = message.id
  // An empty id reads as a foreign record's, which no content type is inferred for.
  if (contentTypeHeader === 'always' || message.contentType !== impliedContentType || message.id === '') {
    headers[kafkaHeaders.contentType] = message.contentType
  }
  if (message.correlationId !== undefined) headers[kafkaHeaders.correlationId] = message.correlationId
  if (message.replyTo !== undefined) headers[kafkaHeaders.replyTo] = message.replyTo
  if (message.subject !== undefined) headers[kafkaHeaders.subject] = message.subject
  if (dueAt !== undefined) headers[kafkaHeaders.dueAt] = String(dueAt)
  return { key: message.key, value: message.body, headers, timestamp: message.timestamp }
}

/** A record's value as the Buffer a client library takes: core's codecs hand Buffers already, so no second view per record. */
export function valueBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

/**
 * The `headers` of a received record that carries none but anymq's own: one shared, frozen object
 * instead of an empty one per record (core reads a delivery's headers and copies what it keeps, the
 * dead-letter path spreads them into a new object). `receiveHeader` swaps in a record's own object at
 * its first user header.
 */
const noHeaders: Record<string, string> = Object.freeze({}) as Record<string, string>

/**
 * A received record with no headers yet; every driver makes its records here, so they all share one
 * shape (one hidden class for the engine).
 */
export function receivedRecord(
  topic: string,
  partition: number,
  offset: number,
  key: string | undefined,
  body: Uint8Array,
  timestamp: number,
  raw: unknown,
): DriverRecord {
  return {
    topic,
    partition,
    offset,
    key,
    body,
    headers: noHeaders,
    id: undefined,
    contentType: undefined,
    correlationId: undefined,
    replyTo: undefined,
    subject: undefined,
    dueAt: undefined,
    timestamp,
    attempt: 1,
    raw,
  }
}

/**
 * Puts one received header where anymq reads it: its own into the record's fields, any other into
 * `headers`. Of two headers with one name, the first wins.
 */
export function receiveHeader(record: DriverRecord, name: string, value: string): void {
  // Drivers hand in the same string instances for anymq's names (kafka-header-text.ts), so these
  // comparisons are mostly pointer checks; a user header rarely starts with `x-anymq-`.
  if (name.length >= 10 && name.startsWith('x-anymq-')) {
    switch (name) {
      case kafkaHeaders.id:
        record.id ??= value
        return
      case kafkaHeaders.contentType:
        record.contentType ??= value
        return
      case kafkaHeaders.correlationId:
        record.correlationId ??= value
        return
      case kafkaHeaders.replyTo:
        record.replyTo ??= value
        return
      case kafkaHeaders.subject:
        record.subject ??= value
        return
      case kafkaHeaders.dueAt:
        record.dueAt ??= value
        return
    }
  }
  // Own keys only: `in` would see `constructor` or `toString` on every plain object and drop them.
  if (record.headers === noHeaders) record.headers = {}
  if (!Object.hasOwn(record.headers, name)) record.headers[name] = value
}

/**
 * A record as anymq sees it; records from other clients (no id, or an empty one) get
 * `topic-partition-offset` as id, and `application/octet-stream` when they name no content type (an
 * anymq record without one is JSON, see `impliedContentType`). The message is the record itself,
 * completed in place (a second object per record was ~100 B of a 100 B consume's allocations), so
 * it also carries the record's `topic`, `partition`, `offset`, `dueAt` and `raw`; core reads a
 * message by its fields and copies none of it whole. Its `headers` object is the driver's, made for
 * this record alone, or the shared frozen `noHeaders` (read only, by design). Reading a record twice
 * gives the same message.
 */
export function fromRecord(record: DriverRecord): IncomingMessage {
  completeAsMessage(record)
  return record
}

// Fills only what is missing, so a second call changes nothing.
function completeAsMessage(record: DriverRecord): asserts record is DriverRecord & IncomingMessage {
  const id = record.id
  const anymq = id !== undefined && id !== ''
  if (!anymq) record.id = `${record.topic}-${record.partition}-${record.offset}`
  record.contentType ??= anymq ? impliedContentType : foreignContentType
  if (!(Number.isFinite(record.timestamp) && record.timestamp > 0)) record.timestamp = Date.now()
  record.attempt = attemptFromHeaders(record.headers)
}

export function dueAtOf(record: DriverRecord): number {
  const due = Number(record.dueAt)
  return Number.isFinite(due) ? due : 0
}

/**
 * Names of what anymq creates. Queue and topic names map to Kafka topics of the same name; a group's
 * redelivery topic (retries, delayed sends, redrive into one subscription) follows core's dead-letter
 * naming: `<queue>.retry`, `<topic>.<subscription>.retry`. Group ids use `:`, which no anymq name
 * contains, so they never collide.
 */
export const naming = {
  queueGroup: (queue: string) => `anymq:queue:${queue}`,
  queueRetryTopic: (queue: string) => topicName(`${queue}.retry`),
  subscriptionGroup: (topic: string, subscription: string) => `anymq:subscription:${topic}:${subscription}`,
  subscriptionRetryTopic: (topic: string, subscription: string) => topicName(`${topic}.${subscription}.retry`),
  ephemeralGroup: (topic: string, unique: string) => `anymq:ephemeral:${topic}:${unique}`,
  inboxTopic: (unique: string) => `anymq.inbox.${unique}`,
  inboxGroup: (unique: string) => `anymq:inbox:${unique}`,
  peekGroup: (unique: string) => `anymq:peek:${unique}`,
}

const maxTopicLength = 249

/** Kafka topic names are at most 249 characters: longer ones keep a prefix and a hash. */
export function topicName(name: string): string {
  if (name.length <= maxTopicLength) return name
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16)
  return `${name.slice(0, maxTopicLength - 17)}.${hash}`
}
