import type { Destination, OutgoingMessage } from '@anymq/core/spi'

/** One message as add() writes it: already validated and encoded, ready to publish as it is. */
export interface OutboxRecord {
  id: string
  /** `JSON.stringify` of the core {@link Destination}, so the relay provisions exactly what a consumer would. */
  destination: string
  key: string | undefined
  body: Uint8Array
  contentType: string
  headers: Record<string, string>
  correlationId: string | undefined
  replyTo: string | undefined
  subject: string | undefined
  delayMs: number
  priority: number | undefined
  dedupeId: string | undefined
  /** Message timestamp (epoch ms): when add() ran. */
  timestampMs: number
}

/** A row waiting to be published, as a relay claimed it. */
export interface PendingRow extends OutboxRecord {
  /** Insertion order, as a decimal string (Postgres bigserial does not fit every JS number). */
  position: string
  /** Failed publish attempts before this one. */
  attempts: number
  /** When the row was written (epoch ms). */
  createdAtMs: number
}

/** A row the relay gave up on. */
export interface OutboxDeadLetter {
  /** Its position in the dead-letter table; pass it to `replay({ positions })`. */
  position: string
  id: string
  /** `queue 'orders'` or `topic 'order-events'`. */
  destination: string
  key: string | undefined
  headers: Readonly<Record<string, string>>
  body: Uint8Array
  contentType: string
  /** Publish attempts made. */
  attempts: number
  /** The last publish error: `Name: message`. */
  error: string
  createdAt: Date
  failedAt: Date
}

export function toRecord(message: OutgoingMessage, destination: Destination): OutboxRecord {
  return {
    id: message.id,
    destination: JSON.stringify(destination),
    key: message.key,
    body: message.body,
    contentType: message.contentType,
    headers: message.headers,
    correlationId: message.correlationId,
    replyTo: message.replyTo,
    subject: message.subject,
    delayMs: message.delayMs,
    priority: message.priority,
    dedupeId: message.dedupeId,
    timestampMs: message.timestamp,
  }
}

/** The message exactly as add() encoded it: same id, timestamp, headers and bytes. */
export function toOutgoingMessage(row: PendingRow): OutgoingMessage {
  return {
    id: row.id,
    body: row.body,
    contentType: row.contentType,
    headers: { ...row.headers },
    key: row.key,
    correlationId: row.correlationId,
    replyTo: row.replyTo,
    timestamp: row.timestampMs,
    subject: row.subject,
    delayMs: row.delayMs,
    priority: row.priority,
    dedupeId: row.dedupeId,
    attempt: 1,
  }
}

export function describeDestinationJson(destination: string): string {
  try {
    const parsed = JSON.parse(destination) as Destination
    if (parsed.kind === 'queue') return `queue '${parsed.queue.name}'`
    if (parsed.kind === 'topic') return `topic '${parsed.topic}'`
  } catch {}
  return destination
}

/** Column values shared by both stores, in the order of {@link recordColumns}. */
export const recordColumns = [
  'id',
  'destination',
  'key',
  'body',
  'content_type',
  'headers',
  'correlation_id',
  'reply_to',
  'subject',
  'delay_ms',
  'priority',
  'dedupe_id',
  'timestamp_ms',
] as const

export function recordValues(record: OutboxRecord): unknown[] {
  return [
    record.id,
    record.destination,
    record.key ?? null,
    Buffer.from(record.body.buffer, record.body.byteOffset, record.body.byteLength),
    record.contentType,
    JSON.stringify(record.headers),
    record.correlationId ?? null,
    record.replyTo ?? null,
    record.subject ?? null,
    record.delayMs,
    record.priority ?? null,
    record.dedupeId ?? null,
    record.timestampMs,
  ]
}

/** Reads a database row (snake_case columns) into a {@link PendingRow}. */
export function rowFromColumns(row: Record<string, unknown>): PendingRow {
  const headers = typeof row.headers === 'string' ? (JSON.parse(row.headers) as Record<string, string>) : ((row.headers ?? {}) as Record<string, string>)
  const destination = typeof row.destination === 'string' ? row.destination : JSON.stringify(row.destination)
  const body = row.body as Uint8Array
  return {
    position: String(row.position),
    id: String(row.id),
    destination,
    key: nullable(row.key),
    body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    contentType: String(row.content_type),
    headers,
    correlationId: nullable(row.correlation_id),
    replyTo: nullable(row.reply_to),
    subject: nullable(row.subject),
    delayMs: Number(row.delay_ms ?? 0),
    priority: row.priority === null || row.priority === undefined ? undefined : Number(row.priority),
    dedupeId: nullable(row.dedupe_id),
    timestampMs: Number(row.timestamp_ms),
    attempts: Number(row.attempts ?? 0),
    createdAtMs: row.created_at instanceof Date ? row.created_at.getTime() : Number(row.created_at),
  }
}

function nullable(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value)
}
