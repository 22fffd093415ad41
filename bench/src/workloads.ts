import { type BenchBody, bodyFactory, LatencyRecorder, preciseNow, SequenceTracker } from '@anymq/cli'
import type { BenchClient, Running } from './bench-client.js'

/** What one run of one workload on one side measured. */
export interface Measurement {
  /** Messages (or requests) the run was asked for. */
  messages: number
  /** Messages that completed (published, or consumed once each). */
  completed: number
  wallMs: number
  /** CPU time of this process (user + system) during the timed part. */
  cpuMs: number
  /** completed per second of wall time. */
  rate: number
  duplicates: number
  timedOut: boolean
  latency?: ReturnType<LatencyRecorder['summary']>
  /** Resident set size after the run (after a GC when `--expose-gc` is on), in bytes. */
  rssBytes?: number
  /** V8 heap in use plus external memory (ArrayBuffers) after the run, after a GC: what is still alive. */
  liveBytes?: number
}

export interface RunContext {
  client: BenchClient
  /** A fresh queue name for this run. */
  queue: string
  run: string
  bytes: number
  deadlineMs: number
  /** A warm-up run: a tenth of the messages (at least 50), not reported. */
  warmup?: boolean
  onProgress(done: number): void
}

/** The messages a run sends: all of them, or a tenth for a warm-up. */
function runSize(context: RunContext, messages: number): number {
  return context.warmup ? Math.min(messages, Math.max(50, Math.round(messages / 10))) : messages
}

/** Publish calls kept in flight by the pipelined workloads. */
export const publishWindow = 64

function cpuNow(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

class Clock {
  wallStart = preciseNow()
  cpuStart = cpuNow()
  wallMs(at = preciseNow()): number {
    return at - this.wallStart
  }
  cpuMs(): number {
    return cpuNow() - this.cpuStart
  }
}

function measurement(messages: number, completed: number, clock: Clock, extra: Partial<Measurement> = {}, endedAt?: number): Measurement {
  const wallMs = clock.wallMs(endedAt)
  return { messages, completed, wallMs, cpuMs: clock.cpuMs(), rate: (completed * 1000) / Math.max(wallMs, 0.001), duplicates: 0, timedOut: false, ...extra }
}

/** Runs `work(index)` for indexes 0…total-1 with at most `window` running at once; stops early when `stop()` says so. */
async function pool(total: number, window: number, step: number, work: (first: number, count: number) => Promise<void>, stop: () => boolean): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < total && !stop()) {
      const first = next
      const count = Math.min(step, total - first)
      next += count
      await work(first, count)
    }
  }
  await Promise.all(Array.from({ length: Math.min(window, Math.ceil(total / step)) }, worker))
}

function deadline(ms: number): { expired: () => boolean; promise: Promise<void>; cancel: () => void } {
  let expired = false
  let timer: NodeJS.Timeout | undefined
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      expired = true
      resolve()
    }, ms)
  })
  return { expired: () => expired, promise, cancel: () => clearTimeout(timer) }
}

/** Publish `messages` one per call: `window` 1 awaits each send before the next (the naive loop); more pipelines them. */
export async function publishSingle(context: RunContext, messages: number, window: number): Promise<Measurement> {
  messages = runSize(context, messages)
  const { client, queue } = context
  const makeBody = bodyFactory(context.run, context.bytes)
  await client.prepare(queue, { ...makeBody(-1), seq: -1 })
  const limit = deadline(context.deadlineMs)
  let completed = 0
  const clock = new Clock()
  await pool(
    messages,
    window,
    1,
    async (first) => {
      await client.send(queue, makeBody(first))
      context.onProgress(++completed)
    },
    limit.expired,
  )
  limit.cancel()
  return measurement(messages, completed, clock, { timedOut: limit.expired() })
}

/** Publish `messages` in `sendBatch` calls of `batch`, a few calls in flight. */
export async function publishBatch(context: RunContext, messages: number, batch: number, window = 4): Promise<Measurement> {
  messages = runSize(context, messages)
  const { client, queue } = context
  const makeBody = bodyFactory(context.run, context.bytes)
  await client.prepare(queue, { ...makeBody(-1), seq: -1 })
  const limit = deadline(context.deadlineMs)
  let completed = 0
  const clock = new Clock()
  await pool(
    messages,
    window,
    batch,
    async (first, count) => {
      await client.sendBatch(
        queue,
        Array.from({ length: count }, (_, index) => makeBody(first + index)),
      )
      completed += count
      context.onProgress(completed)
    },
    limit.expired,
  )
  limit.cancel()
  return measurement(messages, completed, clock, { timedOut: limit.expired() })
}

interface Counting {
  tracker: SequenceTracker
  latency: LatencyRecorder
  done: Promise<void>
  completedAt: () => number | undefined
  firstAt: () => number | undefined
  /** This process's CPU time (ms) when the first message arrived. */
  firstCpu: () => number | undefined
  handle: (body: BenchBody) => void
  finish: () => void
}

function counting(context: RunContext, messages: number, recordLatency: boolean): Counting {
  const tracker = new SequenceTracker(messages)
  const latency = new LatencyRecorder()
  let completedAt: number | undefined
  let firstAt: number | undefined
  let firstCpu: number | undefined
  let finish: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    finish = resolve
  })
  if (messages === 0) finish()
  return {
    tracker,
    latency,
    done,
    completedAt: () => completedAt,
    firstAt: () => firstAt,
    firstCpu: () => firstCpu,
    finish: () => finish(),
    handle(body) {
      if (body.run !== context.run || !tracker.add(body.seq)) return
      if (firstAt === undefined) {
        firstAt = preciseNow()
        firstCpu = cpuNow()
      }
      if (recordLatency) latency.record(preciseNow() - body.sentAt)
      context.onProgress(tracker.unique)
      if (tracker.complete) {
        completedAt = preciseNow()
        finish()
      }
    },
  }
}

/** Fill the queue first (untimed), then time a consumer with `concurrency` handlers draining it. */
export async function consume(context: RunContext, messages: number, concurrency: number): Promise<Measurement> {
  messages = runSize(context, messages)
  const { client, queue } = context
  const makeBody = bodyFactory(context.run, context.bytes)
  await client.prepare(queue, { ...makeBody(-1), seq: -1 })
  await pool(
    messages,
    4,
    100,
    (first, count) =>
      client.sendBatch(
        queue,
        Array.from({ length: count }, (_, index) => makeBody(first + index)),
      ),
    () => false,
  )
  const count = counting(context, messages, false)
  const limit = deadline(context.deadlineMs)
  let running: Running | undefined
  let clock: Clock | undefined
  try {
    // Timed from the consumer being attached (a Kafka group join is not consumption), or from the first
    // message when the consumer ran before attaching returned (an in-process queue drains at once; a
    // Kafka consumer may hand out records before its readiness resolves). CPU time starts there too:
    // the attaching itself (joining the group, declaring topics) is not consumption on either side.
    running = await client.consume(queue, concurrency, count.handle)
    clock = new Clock()
    const first = count.firstAt()
    const firstCpu = count.firstCpu()
    if (first !== undefined && firstCpu !== undefined && first < clock.wallStart) {
      clock.wallStart = first
      clock.cpuStart = firstCpu
    }
    await Promise.race([count.done, limit.promise])
  } finally {
    limit.cancel()
    await running?.close()
  }
  return measurement(
    messages,
    count.tracker.unique,
    clock ?? new Clock(),
    { duplicates: count.tracker.duplicates, timedOut: limit.expired() },
    count.completedAt(),
  )
}

/**
 * A consumer with `concurrency` handlers attaches, then a producer sends one message per call
 * (`publishWindow` in flight, or paced to `rate`); ends when every message was handled and acked.
 * The producer never runs more than `maxAhead` messages ahead of the consumer, so memory stays flat.
 */
export async function endToEnd(
  context: RunContext,
  messages: number,
  concurrency: number,
  options: { rate?: number; recordLatency?: boolean; window?: number } = {},
): Promise<Measurement> {
  messages = runSize(context, messages)
  const { client, queue } = context
  const makeBody = bodyFactory(context.run, context.bytes)
  await client.prepare(queue, { ...makeBody(-1), seq: -1 })
  const count = counting(context, messages, options.recordLatency ?? false)
  const limit = deadline(context.deadlineMs)
  const maxAhead = 10_000
  let published = 0
  let waiting: (() => void)[] = []
  const wake = () => {
    const woken = waiting
    waiting = []
    for (const resolve of woken) resolve()
  }
  const handle = count.handle
  count.handle = (body) => {
    handle(body)
    if (waiting.length > 0 && published - count.tracker.unique < maxAhead / 2) wake()
  }
  void limit.promise.then(() => {
    count.finish()
    wake()
  })
  let running: Running | undefined
  let clock: Clock | undefined
  try {
    running = await client.consume(queue, concurrency, (body) => count.handle(body))
    clock = new Clock()
    const started = preciseNow()
    await pool(
      messages,
      options.window ?? publishWindow,
      1,
      async (first) => {
        if (options.rate !== undefined) {
          const wait = started + (first * 1000) / options.rate - preciseNow()
          if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
        }
        while (published - count.tracker.unique >= maxAhead && !limit.expired()) await new Promise<void>((resolve) => waiting.push(resolve))
        await client.send(queue, makeBody(first))
        published++
      },
      limit.expired,
    )
    await Promise.race([count.done, limit.promise])
  } finally {
    limit.cancel()
    await running?.close()
  }
  return measurement(
    messages,
    count.tracker.unique,
    clock ?? new Clock(),
    {
      duplicates: count.tracker.duplicates,
      timedOut: limit.expired(),
      ...(options.recordLatency ? { latency: count.latency.summary() } : {}),
    },
    count.completedAt(),
  )
}

/** Sequential request/reply round trips against an echo responder, after a few untimed warm-up requests. */
export async function requestReply(context: RunContext, requests: number): Promise<Measurement> {
  requests = runSize(context, requests)
  const { client, queue } = context
  const makeBody = bodyFactory(context.run, context.bytes)
  const responder = await client.serve(queue)
  const latency = new LatencyRecorder()
  const limit = deadline(context.deadlineMs)
  let completed = 0
  let clock: Clock | undefined
  try {
    // A reply that never comes fails the run at once instead of holding it until the harness gives up on it.
    const request = async (body: BenchBody): Promise<BenchBody> => {
      let timer: NodeJS.Timeout | undefined
      try {
        return await Promise.race([
          client.request(queue, body),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no reply to request ${body.seq} within 30 s`)), 30_000)
          }),
        ])
      } finally {
        clearTimeout(timer)
      }
    }
    for (let index = 0; index < 20; index++) await request(makeBody(-1))
    clock = new Clock()
    for (let index = 0; index < requests && !limit.expired(); index++) {
      const started = preciseNow()
      const reply = await request(makeBody(index))
      if (reply.seq !== index) throw new Error(`request ${index} got the reply to ${reply.seq}`)
      latency.record(preciseNow() - started)
      context.onProgress(++completed)
    }
  } finally {
    limit.cancel()
    await responder.close()
  }
  return measurement(requests, completed, clock ?? new Clock(), { timedOut: limit.expired(), latency: latency.summary() })
}
