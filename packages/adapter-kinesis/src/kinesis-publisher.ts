import { createHash } from 'node:crypto'
import { MessageTooLargeError, PublishError } from '@anymq/core/spi'
import type { KinesisClient, PutRecordsCommandOutput, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis'
import { PutRecordsCommand } from '@aws-sdk/client-kinesis'
import { recordLimitBytes } from './kinesis-config.js'
import { adapterName, isRetryable, wrapError } from './kinesis-errors.js'

/** PutRecords takes at most 500 records and 5 MiB (data plus partition keys) per call. */
const maxRecordsPerCall = 500
const maxBytesPerCall = 5 * 1_048_576
/** Calls made for one batch before its still-refused records fail the publish. */
const maxAttempts = 8

export interface RecordToPut {
  data: Uint8Array
  /** The anymq key (per-key order within a shard), else the message id (spreads over shards). */
  partitionKey: string
}

/**
 * Refuses a record over Kinesis' 1 MiB (data plus partition key) with `MessageTooLargeError`. Core
 * counts body plus headers against `maxMessageBytes`; the envelope's JSON can still outgrow the 4 KiB
 * kept for it (escaped quotes or control characters in headers), which only the encoded record shows.
 */
export function assertRecordFits(record: RecordToPut): void {
  const size = record.data.byteLength + Buffer.byteLength(record.partitionKey)
  if (size > recordLimitBytes) throw new MessageTooLargeError(size, recordLimitBytes, { adapter: adapterName })
}

/**
 * Puts records with PutRecords: split into calls that respect the 500-record and 5 MiB limits, in
 * order, and the records a call refused (throttling, internal failures: `FailedRecordCount`) put
 * again with backoff until every one is in. Resolves only when Kinesis has every record.
 */
export async function putRecords(client: KinesisClient, stream: string, records: readonly RecordToPut[], signal?: AbortSignal): Promise<void> {
  for (const record of records) assertRecordFits(record)
  for (const chunk of chunks(records)) await putChunk(client, stream, chunk, signal)
}

/** A partition key of at most 256 characters: the key itself, or its SHA-256 when longer. */
export function partitionKeyOf(key: string | undefined, id: string): string {
  const chosen = key ?? id
  if (chosen.length > 0 && chosen.length <= 256) return chosen
  return createHash('sha256').update(chosen).digest('hex')
}

function* chunks(records: readonly RecordToPut[]): Generator<RecordToPut[]> {
  let chunk: RecordToPut[] = []
  let bytes = 0
  for (const record of records) {
    const size = record.data.byteLength + Buffer.byteLength(record.partitionKey)
    if (chunk.length > 0 && (chunk.length === maxRecordsPerCall || bytes + size > maxBytesPerCall)) {
      yield chunk
      chunk = []
      bytes = 0
    }
    chunk.push(record)
    bytes += size
  }
  if (chunk.length > 0) yield chunk
}

async function putChunk(client: KinesisClient, stream: string, chunk: RecordToPut[], signal?: AbortSignal): Promise<void> {
  let pending: PutRecordsRequestEntry[] = chunk.map((record) => ({ Data: record.data, PartitionKey: record.partitionKey }))
  let lastError = ''
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await backoff(attempt, signal)
    let result: PutRecordsCommandOutput
    try {
      result = await client.send(new PutRecordsCommand({ StreamName: stream, Records: pending }), { abortSignal: signal })
    } catch (error) {
      if (!isRetryable(error) || attempt === maxAttempts) throw wrapError(error, `PutRecords to stream '${stream}'`, 'publish')
      lastError = (error as Error).message
      continue
    }
    if (!result.FailedRecordCount) return
    // Only the refused entries go again; the response lists results in request order.
    const refused = pending.filter((_, index) => result.Records?.[index]?.ErrorCode)
    lastError = result.Records?.find((entry) => entry.ErrorCode)?.ErrorCode ?? 'unknown'
    pending = refused
  }
  throw new PublishError(`PutRecords to stream '${stream}': ${pending.length} records still refused after ${maxAttempts} attempts (${lastError})`, {
    adapter: adapterName,
    retryable: true,
  })
}

function backoff(attempt: number, signal?: AbortSignal): Promise<void> {
  const ms = Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2)
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })
}
