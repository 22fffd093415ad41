import type { Anymq, Subscription } from '@anymq/core'
import { type BenchBody, bodyFactory, newRunId, preciseNow, SequenceTracker } from './bench-body.js'
import { LatencyRecorder } from './latency-recorder.js'

export interface EndToEndOptions {
  /** Queue to use; leftovers of other runs on it are acked and skipped. */
  queue: string
  messages: number
  /** Encoded JSON body size in bytes. */
  bytes: number
  /** Handlers running at once on the consumer. */
  concurrency: number
  /** Messages per `sendBatch` call; 1 = `send` per message. */
  batch: number
  /** Publish calls in flight at once. */
  window: number
  /** Messages per second to publish at; `undefined` = as fast as the broker takes them. */
  rate: number | undefined
  /** Give up after this long, reporting what is missing. */
  timeoutMs: number
  /** Called often (throttle in the callee) with the messages consumed so far. */
  onProgress?: (consumed: number, published: number) => void
  signal?: AbortSignal
}

export interface EndToEndResult {
  messages: number
  bytes: number
  concurrency: number
  published: number
  /** Distinct messages of this run consumed (each counted once). */
  consumed: number
  duplicates: number
  /** Messages of other runs found on the queue, acked and not counted. */
  stale: number
  missing: number
  timedOut: boolean
  /** From the first send to the last publish confirmation. */
  publishMs: number
  /** From the first send to the last message handled. */
  totalMs: number
  publishRate: number
  endToEndRate: number
  /** Send → handler latency of every consumed message. */
  latency: LatencyRecorder
}

/**
 * The end-to-end workload behind `anymq bench`: a consumer with `concurrency` handlers attaches first,
 * then a producer sends `messages` JSON bodies (`window` calls in flight, optionally paced to `rate`),
 * and the run ends when every message was handled and acked, or at the timeout. The producer never runs
 * more than a bounded number of messages ahead of the consumer, so memory stays flat at any count.
 */
export async function runEndToEnd(mq: Anymq, options: EndToEndOptions): Promise<EndToEndResult> {
  const run = newRunId()
  const makeBody = bodyFactory(run, options.bytes)
  const queue = mq.queue<BenchBody>(options.queue)
  const tracker = new SequenceTracker(options.messages)
  const latency = new LatencyRecorder()
  let stale = 0
  let published = 0
  const maxAhead = Math.max(10_000, options.window * options.batch * 4)
  let waitingProducers: (() => void)[] = []
  const wakeProducers = () => {
    const waiting = waitingProducers
    waitingProducers = []
    for (const wake of waiting) wake()
  }
  let finish: (() => void) | undefined
  let completedAt: number | undefined
  const finished = new Promise<void>((resolve) => {
    finish = resolve
  })
  const subscription: Subscription = queue.consume(
    (message) => {
      const body = message.body
      if (body?.run !== run) {
        stale++
        return
      }
      if (!tracker.add(body.seq)) return
      latency.record(preciseNow() - body.sentAt)
      options.onProgress?.(tracker.unique, published)
      if (waitingProducers.length > 0 && published - tracker.unique < maxAhead / 2) wakeProducers()
      if (tracker.complete) {
        completedAt = preciseNow()
        finish?.()
      }
    },
    { concurrency: options.concurrency, onError: () => {} },
  )
  await subscription.ready
  const started = preciseNow()
  let publishEnded = started
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    finish?.()
    wakeProducers()
  }, options.timeoutMs)
  const onAbort = () => {
    timedOut = true
    finish?.()
    wakeProducers()
  }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    let next = 0
    const producer = async (): Promise<void> => {
      while (next < options.messages && !timedOut) {
        const first = next
        const count = Math.min(options.batch, options.messages - first)
        next += count
        if (options.rate !== undefined) {
          const due = started + (first * 1000) / options.rate
          const wait = due - preciseNow()
          if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
        }
        while (published - tracker.unique >= maxAhead && !timedOut) await new Promise<void>((resolve) => waitingProducers.push(resolve))
        if (count === 1) await queue.send(makeBody(first))
        else await queue.sendBatch(Array.from({ length: count }, (_, index) => makeBody(first + index)))
        published += count
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, options.window) }, producer))
    publishEnded = preciseNow()
    if (options.messages > 0) await finished
  } finally {
    clearTimeout(timer)
    options.signal?.removeEventListener('abort', onAbort)
    await subscription.close()
  }
  const ended = completedAt ?? preciseNow()
  const totalMs = ended - started
  const publishMs = publishEnded - started
  return {
    messages: options.messages,
    bytes: options.bytes,
    concurrency: options.concurrency,
    published,
    consumed: tracker.unique,
    duplicates: tracker.duplicates,
    stale,
    missing: options.messages - tracker.unique,
    timedOut,
    publishMs,
    totalMs,
    publishRate: (published * 1000) / Math.max(publishMs, 0.001),
    endToEndRate: (tracker.unique * 1000) / Math.max(totalMs, 0.001),
    latency,
  }
}
