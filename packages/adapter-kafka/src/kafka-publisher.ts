import type { DriverOutgoingRecord, KafkaDriver } from './kafka-driver.js'
import { wrapError } from './kafka-errors.js'

/** Records accepted for one topic, in order. */
export interface TopicRecords {
  topic: string
  records: DriverOutgoingRecord[]
}

/**
 * A run of one publish call's records that fits in one produce request. Queued per run, not per
 * record: a sendBatch of 100 is one entry, not 100 (an object per record was a visible part of the
 * adapter's sendBatch cost). Its `batches` are the call's own lists when they fit whole.
 */
interface Chunk {
  batches: readonly TopicRecords[]
  bytes: number
  count: number
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

  /**
   * `batches`: the records per topic, each topic once; the publisher does not change the lists.
   * `forget`: the topics are short-lived (reply inboxes); the client must not keep tracking them.
   */
  publish(batches: readonly TopicRecords[], options: { forget?: boolean } = {}): Promise<void> {
    let total = 0
    for (const batch of batches) total += batch.records.length
    if (total === 0) return Promise.resolve()
    const forget = options.forget ?? false
    return new Promise<void>((resolve, reject) => {
      const call: PublishCall = { remaining: 0, failed: false, resolve, reject }
      // Cut into runs that each fit in one request on their own; a request may then carry several runs.
      let run: TopicRecords[] = []
      let bytes = 0
      let count = 0
      for (const batch of batches) {
        const records = batch.records
        if (records.length === 0) continue
        let start = 0
        for (let index = 0; index < records.length; index++) {
          const size = recordSize(records[index] as DriverOutgoingRecord)
          if (count > 0 && (bytes + size > maxRequestBytes || count >= maxRequestRecords)) {
            if (index > start) run.push({ topic: batch.topic, records: records.slice(start, index) })
            this.waiting.push({ batches: run, bytes, count, forget, call })
            call.remaining++
            run = []
            start = index
            bytes = 0
            count = 0
          }
          bytes += size
          count++
        }
        // The whole list when it fits whole: no copy of a sendBatch's records.
        if (start === 0) run.push(batch)
        else run.push({ topic: batch.topic, records: records.slice(start) })
      }
      if (count > 0) {
        this.waiting.push({ batches: run, bytes, count, forget, call })
        call.remaining++
      }
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
        const batches = request.length === 1 ? (request[0] as Chunk).batches : merge(request)
        // Mostly none: no set and no array per request unless a chunk forgets its topics.
        let forget: Set<string> | undefined
        for (const chunk of request) if (chunk.forget) for (const { topic } of chunk.batches) (forget ??= new Set()).add(topic)
        try {
          await this.driver.send(batches, { forget: forget === undefined ? noTopics : [...forget] })
          for (const { call } of request) {
            if (--call.remaining === 0 && !call.failed) call.resolve()
          }
        } catch (error) {
          const count = request.reduce((sum, chunk) => sum + chunk.count, 0)
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
      if (count > 0 && (bytes + chunk.bytes > maxRequestBytes || records + chunk.count > maxRequestRecords)) break
      bytes += chunk.bytes
      records += chunk.count
      count++
    }
    return this.waiting.splice(0, count)
  }
}

/**
 * The records of several runs, one list per topic in the order topics first appear. A topic's first
 * list is taken as it is and copied only when a second run adds to it (the callers' lists stay as they were).
 */
function merge(request: readonly Chunk[]): TopicRecords[] {
  const merged: TopicRecords[] = []
  const owned = new Set<TopicRecords>()
  for (const chunk of request) {
    for (const batch of chunk.batches) {
      const index = merged.findIndex((entry) => entry.topic === batch.topic)
      const entry = merged[index]
      if (entry === undefined) merged.push(batch)
      else if (owned.has(entry)) for (const record of batch.records) entry.records.push(record)
      else {
        const copy = { topic: entry.topic, records: entry.records.concat(batch.records) }
        merged[index] = copy
        owned.add(copy)
      }
    }
  }
  return merged
}

function recordSize(record: DriverOutgoingRecord): number {
  let size = record.value.byteLength + (record.key?.length ?? 0) * 3 + 70
  const headers = record.headers
  for (const name in headers) size += name.length + (headers[name] as string).length * 3 + 4
  return size
}
