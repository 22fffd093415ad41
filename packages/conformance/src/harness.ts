import { randomBytes } from 'node:crypto'
import type { Anymq, Capabilities, Message, Queue } from '@anymq/core'
import { afterEach } from 'vitest'
import type { ConformanceGroup } from './conformance-groups.js'

/** What an adapter hands to the suite. */
export interface ConformanceTarget {
  /** Shown in every case name, e.g. `rabbitmq (quorum queues)`. */
  name: string
  /** Opens a new connection to the real broker; called several times per case. */
  connect: () => Promise<Anymq>
  /** The adapter's declared capabilities: what must work, and what must throw `UnsupportedFeatureError`. */
  capabilities: Capabilities
  hooks?: ConformanceHooks
  /** Multiplies every wait, for slow brokers (group rebalances, long polls). Default 1. */
  timeScale?: number
  /** Extra options for every queue the suite makes (e.g. `{ broker: { queueType: 'quorum' } }`). */
  queueOptions?: { broker?: Record<string, unknown>; ordered?: boolean }
  /** Size of the stress case; default 50 publishers × 100 messages, 50 consumers. */
  stress?: {
    publishers: number
    messagesPerPublisher: number
    consumers: number
  }
  /**
   * Messages in the "counts in equal counts out" case; default 10 000. Lower it only for a broker or
   * emulator whose request rate makes 10 000 impractical in a CI run, and say why in the adapter's README.
   */
  volume?: number
  /**
   * Whether the broker counts deliveries, so that a message redelivered after its consumer died
   * arrives with `attempt` 2 (RabbitMQ's redelivered flag, SQS's receive count, Redis' delivery
   * count). Default true. Kafka keeps no per-message count: a record re-read after a rebalance is
   * attempt 1 again.
   */
  countsRedeliveries?: boolean
  /**
   * Whether a connection notices a broker restart and reports `reconnecting` then `connected`
   * (`mq.onConnectionState`), checked by the recovery group. Default true. Set false only with the
   * reason in the adapter's README.
   */
  observesReconnects?: boolean
  /**
   * Whether two consumers polling one queue at the same moment may both be handed the same message:
   * at-least-once even between competitors, as SQS standard queues document ("occasionally more than
   * one copy"), and as moto does under load (its ReceiveMessage marks a message received without a
   * lock). The competing-consumers and batch cases then ask for every message at least once and few
   * repeats instead of exactly once (one consumer's pollers compete with each other too). Default false.
   */
  competitorsMaySeeDuplicates?: boolean
  /**
   * Whether a message that a closed consumer's last poll received and handed straight back, unseen by
   * any handler, counts as a delivery attempt (SQS: `attempt` is `ApproximateReceiveCount`, and a long
   * poll pending at close still receives for up to its wait). A message sent right after a consumer
   * closed may then arrive with attempt 2; cases that check a fresh message's attempt allow that one
   * extra. Default false.
   */
  handBacksCountAsAttempts?: boolean
  /** Only these groups run (default: all). */
  groups?: readonly ConformanceGroup[]
}

export interface ConformanceHooks {
  /** Stops and starts the broker, keeping its data; resolves when it accepts connections again. */
  restartBroker?: () => Promise<void>
}

export type { ConformanceGroup } from './conformance-groups.js'

/** Shared per-suite state: open connections are closed after each case, even when it fails. */
export class Harness {
  private readonly open = new Set<Anymq>()

  constructor(readonly target: ConformanceTarget) {
    afterEach(async () => {
      const connections = [...this.open]
      this.open.clear()
      await Promise.allSettled(connections.map((mq) => withTimeout(mq.close(), this.ms(10_000), 'closing a connection after the case')))
    })
  }

  get capabilities(): Capabilities {
    return this.target.capabilities
  }

  /** `ms` scaled for the broker under test. */
  ms(ms: number): number {
    return Math.round(ms * (this.target.timeScale ?? 1))
  }

  async connect(): Promise<Anymq> {
    const mq = await this.target.connect()
    this.open.add(mq)
    return mq
  }

  forget(mq: Anymq): void {
    this.open.delete(mq)
  }
}

/** A name no other case, run or leftover uses. */
export function uniqueName(prefix: string): string {
  return `conf-${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** Collects what a handler saw and resolves when a condition holds: no fixed sleeps. */
export class Collector<T> {
  readonly items: Message<T>[] = []
  private waiters: Array<{ check: () => boolean; resolve: () => void }> = []

  readonly handler = (message: Message<T>): void => {
    this.add(message)
  }

  private readonly distinctBodies = new Set<string>()

  add(message: Message<T>): void {
    this.items.push(message)
    this.distinctBodies.add(typeof message.body === 'object' ? JSON.stringify(message.body) : String(message.body))
    this.notify()
  }

  /** How many different bodies arrived (redeliveries counted once). */
  get distinct(): number {
    return this.distinctBodies.size
  }

  /** Resolves once `count` different bodies arrived. */
  waitForDistinct(count: number, timeoutMs: number): Promise<void> {
    return this.waitFor(
      () => this.distinct >= count,
      timeoutMs,
      () => `expected ${count} distinct messages, got ${this.distinct} (${this.items.length} deliveries)`,
    )
  }

  get bodies(): T[] {
    return this.items.map((message) => message.body)
  }

  notify(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.check()) return true
      waiter.resolve()
      return false
    })
  }

  /** Resolves once `count` messages arrived; rejects after `timeoutMs` saying how many did. */
  waitForCount(count: number, timeoutMs: number): Promise<void> {
    return this.waitFor(
      () => this.items.length >= count,
      timeoutMs,
      () => `expected ${count} messages, got ${this.items.length}`,
    )
  }

  waitFor(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (check()) return Promise.resolve()
    return withTimeout(new Promise<void>((resolve) => this.waiters.push({ check, resolve })), timeoutMs, describe)
  }
}

export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${typeof what === 'string' ? what : what()}`)), timeoutMs)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A promise with its resolve function, for handlers that wait on the test. */
export function deferred<T = void>(): {
  promise: Promise<T>
  resolve: (value: T) => void
} {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((done) => {
    resolve = done
  })
  return { promise, resolve }
}

/**
 * Starts a consumer (concurrency 1, prefetch 1) that records every message and holds the first one
 * until `release()`: whatever is sent once `holding` resolved waits in the queue, not in a prefetch
 * buffer, so the broker's order of waiting messages decides what comes next.
 */
export async function consumerHoldingFirst<T>(queue: Queue<T>): Promise<{ seen: Collector<T>; holding: Promise<void>; release: () => void }> {
  const seen = new Collector<T>()
  const holding = deferred()
  const gate = deferred()
  await queue.consume(
    async (message) => {
      seen.add(message)
      if (seen.items.length === 1) {
        holding.resolve()
        await gate.promise
      }
    },
    { concurrency: 1, prefetch: 1 },
  ).ready
  return { seen, holding: holding.promise, release: () => gate.resolve() }
}

/**
 * Reads a broker URL from the environment. Under CI (`CI=true`) a missing URL throws, so a suite can
 * never pass with its broker silently absent. `howToStart` completes the message (default: the
 * single brokers of scripts/brokers.sh).
 */
export function brokerUrl(variable: string, howToStart = 'run scripts/brokers.sh up and export the lines of scripts/brokers.sh env'): string | undefined {
  const value = process.env[variable]
  if (value) return value
  if (process.env.CI === 'true' || process.env.ANYMQ_REQUIRE_BROKERS === 'true') {
    throw new Error(`${variable} is not set, and CI requires every broker: ${howToStart}`)
  }
  return undefined
}

/**
 * Reads `read()` until `check` holds, for brokers whose counts settle a moment after the fact (stats
 * that are refreshed every few seconds). Rejects after `timeoutMs` with the last value seen.
 */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (check(value)) return value
    if (Date.now() > until) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`)
    await delay(200)
  }
}
