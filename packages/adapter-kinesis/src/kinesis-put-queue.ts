import type { KinesisClient } from '@aws-sdk/client-kinesis'
import { putRecords, type RecordToPut } from './kinesis-publisher.js'

interface Waiting {
  records: readonly RecordToPut[]
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * One PutRecords at a time per stream and connection: sends made while a call is in flight wait and
 * go together in the next call. Records of one connection then reach a shard in the order they were
 * sent (per-key order across concurrent `send` calls), there are fewer calls, and emulators whose
 * PutRecords is not safe under concurrency (moto numbers a shard's records max + 1 without a lock, so
 * two concurrent calls can give two records one sequence number and lose one) are not raced.
 */
export class StreamPutQueue {
  private readonly waiting = new Map<string, Waiting[]>()
  private readonly busy = new Set<string>()

  constructor(private readonly client: KinesisClient) {}

  put(stream: string, records: readonly RecordToPut[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(stream) ?? []
      queue.push({ records, resolve, reject })
      this.waiting.set(stream, queue)
      if (!this.busy.has(stream)) void this.drain(stream)
    })
  }

  private async drain(stream: string): Promise<void> {
    this.busy.add(stream)
    try {
      for (;;) {
        const round = this.waiting.get(stream) ?? []
        if (round.length === 0) return
        this.waiting.delete(stream)
        try {
          await putRecords(
            this.client,
            stream,
            round.flatMap((entry) => entry.records),
          )
          for (const entry of round) entry.resolve()
        } catch (error) {
          for (const entry of round) entry.reject(error)
        }
      }
    } finally {
      this.busy.delete(stream)
      this.waiting.delete(stream)
    }
  }
}
