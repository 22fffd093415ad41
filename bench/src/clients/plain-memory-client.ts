import type { BenchBody } from '@anymq/cli'
import type { BenchClient, Running } from '../bench-client.js'

interface Entry {
  bytes: Uint8Array
  correlationId?: number
  replyTo?: PlainQueue
}

interface PlainConsumer {
  concurrency: number
  inflight: number
  run(entry: Entry, ack: () => void): void
}

/**
 * The raw baseline for memory: a minimal in-process queue. A message is JSON-encoded to bytes on send,
 * decoded on receive, handed to an async handler with at most `concurrency` unacked at once, and
 * forgotten only when acked: the encode/decode and bookkeeping any in-process queue must do, and
 * nothing else (no ids, headers, copies, retry, ordering or validation).
 */
class PlainQueue {
  private items: Entry[] = []
  private head = 0
  private readonly consumers: PlainConsumer[] = []
  private readonly unacked = new Set<number>()
  private nextToken = 0
  private dispatching = false

  push(entry: Entry): void {
    this.items.push(entry)
    this.dispatch()
  }

  attach(consumer: PlainConsumer): Running {
    this.consumers.push(consumer)
    this.dispatch()
    return {
      close: async () => {
        this.consumers.splice(this.consumers.indexOf(consumer), 1)
      },
    }
  }

  private dispatch(): void {
    if (this.dispatching) return
    this.dispatching = true
    try {
      for (const consumer of this.consumers) {
        while (consumer.inflight < consumer.concurrency && this.head < this.items.length) {
          const entry = this.items[this.head] as Entry
          this.items[this.head++] = undefined as unknown as Entry
          if (this.head > 4096 && this.head * 2 > this.items.length) {
            this.items = this.items.slice(this.head)
            this.head = 0
          }
          const token = this.nextToken++
          this.unacked.add(token)
          consumer.inflight++
          consumer.run(entry, () => {
            this.unacked.delete(token)
            consumer.inflight--
            this.dispatch()
          })
        }
      }
    } finally {
      this.dispatching = false
    }
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const encode = (body: unknown): Uint8Array => encoder.encode(JSON.stringify(body))
const decode = (bytes: Uint8Array): BenchBody => JSON.parse(decoder.decode(bytes)) as BenchBody

/** A fresh plain in-process broker (queues by name). */
export function plainMemoryClient(): BenchClient {
  const queues = new Map<string, PlainQueue>()
  const queue = (name: string): PlainQueue => {
    let found = queues.get(name)
    if (!found) {
      found = new PlainQueue()
      queues.set(name, found)
    }
    return found
  }
  const inbox = new PlainQueue()
  const waiting = new Map<number, (body: BenchBody) => void>()
  let nextCorrelation = 0
  inbox.attach({
    concurrency: 1000,
    inflight: 0,
    run(entry, ack) {
      const body = decode(entry.bytes)
      ack()
      waiting.get(entry.correlationId as number)?.(body)
      waiting.delete(entry.correlationId as number)
    },
  })
  return {
    side: 'raw',
    description: 'plain in-process queue: JSON encode/decode, bounded unacked set (no anymq)',
    async prepare(name, warmUp) {
      queue(name).push({ bytes: encode(warmUp) })
    },
    async send(name, body) {
      queue(name).push({ bytes: encode(body) })
    },
    async sendBatch(name, bodies) {
      const target = queue(name)
      for (const body of bodies) target.push({ bytes: encode(body) })
    },
    async consume(name, concurrency, handle) {
      return queue(name).attach({
        concurrency,
        inflight: 0,
        run(entry, ack) {
          void (async () => {
            handle(decode(entry.bytes))
            ack()
          })()
        },
      })
    },
    async serve(name) {
      return queue(name).attach({
        concurrency: 1,
        inflight: 0,
        run(entry, ack) {
          void (async () => {
            const request = decode(entry.bytes)
            entry.replyTo?.push({ bytes: encode(request), correlationId: entry.correlationId })
            ack()
          })()
        },
      })
    },
    request(name, body) {
      const correlationId = nextCorrelation++
      const reply = new Promise<BenchBody>((resolve) => waiting.set(correlationId, resolve))
      queue(name).push({ bytes: encode(body), correlationId, replyTo: inbox })
      return reply
    },
    async close() {},
    async discard(name) {
      queues.delete(name)
    },
  }
}
