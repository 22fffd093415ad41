import type { IncomingMessage, OutgoingMessage } from '@anymq/core/spi'
import { attemptFromHeaders } from '@anymq/core/spi'

/**
 * The wire format: how an anymq message travels as a Kinesis record. A record holds only data and a
 * partition key, so the data is an envelope: the 4 magic bytes `AMQ` + 0x01, a 4-byte big-endian
 * length, that many bytes of JSON metadata (id, headers, key, timestamps…), then the body as is.
 *
 * A record without the magic bytes (`aws kinesis put-record`, another producer) is read as a plain
 * body: its sequence number is the id, its partition key the key, its arrival time the timestamp.
 */
const magic = [0x41, 0x4d, 0x51, 0x01] as const
const prefixBytes = magic.length + 4

/** Addressing that only the Kinesis adapter reads, carried in the envelope beside the message. */
export interface RecordRouting {
  /** Only this consumer group takes the record (retries, redrive into one subscription); others skip it. */
  group?: string
  /** Epoch ms before which the record is held by the consumer (a retry's backoff). */
  notBefore?: number
}

interface Envelope {
  id: string
  contentType: string
  headers: Record<string, string>
  key?: string
  correlationId?: string
  replyTo?: string
  timestamp: number
  subject?: string
  group?: string
  notBefore?: number
}

export interface DecodedRecord {
  message: IncomingMessage
  routing: RecordRouting
}

export function encodeRecord(message: OutgoingMessage, routing: RecordRouting = {}): Uint8Array {
  const envelope: Envelope = {
    id: message.id,
    contentType: message.contentType,
    headers: message.headers,
    key: message.key,
    correlationId: message.correlationId,
    replyTo: message.replyTo,
    timestamp: message.timestamp,
    subject: message.subject,
    group: routing.group,
    notBefore: routing.notBefore,
  }
  const meta = Buffer.from(JSON.stringify(envelope))
  const data = Buffer.allocUnsafe(prefixBytes + meta.byteLength + message.body.byteLength)
  data.set(magic, 0)
  data.writeUInt32BE(meta.byteLength, magic.length)
  meta.copy(data, prefixBytes)
  data.set(message.body, prefixBytes + meta.byteLength)
  return data
}

/** The record as anymq sees it; a foreign record becomes a message with its data as the body. */
export function decodeRecord(record: { Data?: Uint8Array; PartitionKey?: string; SequenceNumber?: string; ApproximateArrivalTimestamp?: Date }): DecodedRecord {
  const data = record.Data ?? new Uint8Array()
  const envelope = readEnvelope(data)
  if (!envelope) {
    return {
      message: {
        id: record.SequenceNumber ?? '',
        body: data,
        contentType: 'application/octet-stream',
        headers: {},
        key: record.PartitionKey,
        correlationId: undefined,
        replyTo: undefined,
        timestamp: record.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
        subject: undefined,
        attempt: 1,
      },
      routing: {},
    }
  }
  const { envelope: meta, bodyOffset } = envelope
  return {
    message: {
      id: meta.id,
      body: data.subarray(bodyOffset),
      contentType: meta.contentType,
      headers: meta.headers,
      key: meta.key,
      correlationId: meta.correlationId,
      replyTo: meta.replyTo,
      timestamp: meta.timestamp,
      subject: meta.subject,
      attempt: attemptFromHeaders(meta.headers),
    },
    routing: { group: meta.group, notBefore: meta.notBefore },
  }
}

function readEnvelope(data: Uint8Array): { envelope: Envelope; bodyOffset: number } | undefined {
  if (data.byteLength < prefixBytes || magic.some((byte, index) => data[index] !== byte)) return undefined
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const length = buffer.readUInt32BE(magic.length)
  if (prefixBytes + length > data.byteLength) return undefined
  try {
    const envelope = JSON.parse(buffer.subarray(prefixBytes, prefixBytes + length).toString('utf8')) as Envelope
    if (typeof envelope?.id !== 'string' || typeof envelope.headers !== 'object' || envelope.headers === null) return undefined
    return { envelope, bodyOffset: prefixBytes + length }
  } catch {
    return undefined
  }
}
