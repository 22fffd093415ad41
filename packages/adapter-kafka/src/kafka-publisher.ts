import type { DriverOutgoingRecord, KafkaDriver } from './kafka-driver.js'
import { wrapError } from './kafka-errors.js'

/** An accepted record and the topic it goes to. */
export interface TopicRecord {
  topic: string
  record: DriverOutgoingRecord
}

/**
 * A run of one publish call's records that fits in one produce request. Queued per run, not per
 * record: a sendBatch of 100 is one entry, not 100 (an object per record was a visible part of the
 * adapter's sendBatch cost).
 */
interface Chunk {
  records: readonly TopicRecord[]
  bytes: number
  forget: boolean
  call: PublishCall
}

interface PublishCall {
  /** Chunks not acknowledged yet. */
  remaining: number
  failed: boolean
  resolve(): void
  reject(error: Error): void
}

/** A produce request stays under the broker's default `message.max.bytes` (1 MiB) per partition batch. */
export const maxRequestBytes = 900 * 1024
export const maxRequestRecords = 10_000
const noTopics: readonly string[] = Object.freeze([])

/**
 * Coalesces concurrent publishes into as few produce requests as possible: while one request is in
 * flight, everything published meanwhile waits and goes out together in the next one, grouped by
 * topic (kafkajs `sendBatch`). One request in flight keeps the idempotent producer's per-partition
 * sequence simple; a publish resolves only when every one of its records was acknowledged (acks=all).
 */
export class KafkaPublisher {
  private waiting: Chunk[] = []
  private sending: Promise<void> | undefined

  constructor(private readonly driver: KafkaDriver) {}

  /** `forget`: the topics are short-lived (reply inboxes); the client must not keep tracking them. */
  publish(records: readonly TopicRecord[], options: { forget?: boolean } = {}): Promise<void> {
    if (records.length === 0) return Promise.resolve()
    const forget = options.forget ?? false
    return new Promise<void>((resolve, reject) => {
      const call: PublishCall = { remaining: 0, failed: false, resolve, reject }
      // Cut into runs that each fit in one request on their own; a request may then carry several runs.
      let start = 0
      let bytes = 0
      for (let index = 0; index < records.length; index++) {
        const size = recordSize((records[index] as TopicRecord).record)
        if (index > start && (bytes + size > maxRequestBytes || index - start >= maxRequestRecords)) {
          this.waiting.push({ records: records.slice(start, index), bytes, forget, call })
          call.remaining++
          start = index
          bytes = 0
        }
        bytes += size
      }
      this.waiting.push({ records: start === 0 ? records : records.slice(start), bytes, forget, call })
      call.remaining++
      this.sending ??= this.drain()
    })
  }

  /** Resolves once everything accepted so far was sent (or failed). */
  async flush(): Promise<void> {
    while (this.sending) await this.sending
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const request = this.take()
        const batches: Array<{ topic: string; records: DriverOutgoingRecord[] }> = []
        // Mostly none: no set and no array per request unless a chunk forgets its topics.
        let forget: Set<string> | undefined
        // Records mostly go to one topic: the last topic's list is at hand without a map lookup.
        let current: { topic: string; records: DriverOutgoingRecord[] } | undefined
        for (const chunk of request) {
          for (const { topic, record } of chunk.records) {
            if (current?.topic !== topic) {
              current = batches.find((batch) => batch.topic === topic)
              if (!current) {
                current = { topic, records: [] }
                batches.push(current)
              }
            }
            current.records.push(record)
          }
          if (chunk.forget) for (const { topic } of chunk.records) (forget ??= new Set()).add(topic)
        }
        try {
          await this.driver.send(batches, { forget: forget === undefined ? noTopics : [...forget] })
          for (const { call } of request) {
            if (--call.remaining === 0 && !call.failed) call.resolve()
          }
        } catch (error) {
          const count = request.reduce((sum, chunk) => sum + chunk.records.length, 0)
          const wrapped = wrapError(error, `publishing ${count} message(s) to ${batches.map((batch) => batch.topic).join(', ')}`, 'publish')
          for (const { call } of request) {
            call.remaining--
            if (!call.failed) {
              call.failed = true
              call.reject(wrapped)
            }
          }
        }
      }
    } finally {
      this.sending = undefined
    }
  }

  /** The waiting runs that go in the next request: the first always, more while they fit. */
  private take(): Chunk[] {
    let bytes = 0
    let records = 0
    let count = 0
    while (count < this.waiting.length) {
      const chunk = this.waiting[count] as Chunk
      if (count > 0 && (bytes + chunk.bytes > maxRequestBytes || records + chunk.records.length > maxRequestRecords)) break
      bytes += chunk.bytes
      records += chunk.records.length
      count++
    }
    return this.waiting.splice(0, count)
  }
}

function recordSize(record: DriverOutgoingRecord): number {
  let size = record.value.byteLength + (record.key?.length ?? 0) * 3 + 70
  const headers = record.headers
  for (const name in headers) size += name.length + (headers[name] as string).length * 3 + 4
  return size
}
