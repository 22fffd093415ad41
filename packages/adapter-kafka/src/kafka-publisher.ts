import type { DriverOutgoingRecord, KafkaDriver } from './kafka-driver.js'
import { wrapError } from './kafka-errors.js'

interface Waiting {
  topic: string
  forget: boolean
  record: DriverOutgoingRecord
  size: number
  call: PublishCall
}

interface PublishCall {
  remaining: number
  failed: boolean
  resolve(): void
  reject(error: Error): void
}

/** A produce request stays under the broker's default `message.max.bytes` (1 MiB) per partition batch. */
const maxRequestBytes = 900 * 1024
const maxRequestRecords = 10_000

/**
 * Coalesces concurrent publishes into as few produce requests as possible: while one request is in
 * flight, everything published meanwhile waits and goes out together in the next one, grouped by
 * topic (kafkajs `sendBatch`). One request in flight keeps the idempotent producer's per-partition
 * sequence simple; a publish resolves only when every one of its records was acknowledged (acks=all).
 */
export class KafkaPublisher {
  private waiting: Waiting[] = []
  private sending: Promise<void> | undefined

  constructor(private readonly driver: KafkaDriver) {}

  /** `forget`: the topics are short-lived (reply inboxes); the client must not keep tracking them. */
  publish(records: ReadonlyArray<{ topic: string; record: DriverOutgoingRecord }>, options: { forget?: boolean } = {}): Promise<void> {
    if (records.length === 0) return Promise.resolve()
    const forget = options.forget ?? false
    return new Promise<void>((resolve, reject) => {
      const call: PublishCall = { remaining: records.length, failed: false, resolve, reject }
      for (const { topic, record } of records) this.waiting.push({ topic, forget, record, size: recordSize(record), call })
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
        const byTopic = new Map<string, DriverOutgoingRecord[]>()
        const forget = new Set<string>()
        for (const item of request) {
          if (item.forget) forget.add(item.topic)
          const list = byTopic.get(item.topic)
          if (list) list.push(item.record)
          else byTopic.set(item.topic, [item.record])
        }
        try {
          await this.driver.send(
            [...byTopic].map(([topic, records]) => ({ topic, records })),
            { forget: [...forget] },
          )
          for (const item of request) {
            if (--item.call.remaining === 0 && !item.call.failed) item.call.resolve()
          }
        } catch (error) {
          const wrapped = wrapError(error, `publishing ${request.length} message(s) to ${[...byTopic.keys()].join(', ')}`, 'publish')
          for (const item of request) {
            item.call.remaining--
            if (!item.call.failed) {
              item.call.failed = true
              item.call.reject(wrapped)
            }
          }
        }
      }
    } finally {
      this.sending = undefined
    }
  }

  private take(): Waiting[] {
    let bytes = 0
    let count = 0
    while (count < this.waiting.length && count < maxRequestRecords) {
      const size = (this.waiting[count] as Waiting).size
      if (count > 0 && bytes + size > maxRequestBytes) break
      bytes += size
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
