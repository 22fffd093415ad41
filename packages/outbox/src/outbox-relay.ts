import { type Anymq, AnymqError, ConfigError, MessageTooLargeError, transportOf, UnsupportedFeatureError } from '@anymq/core'
import {
  abortSignal,
  type Destination,
  integer,
  messageSize,
  type OptionCheck,
  type OutgoingMessage,
  objectOf,
  ofType,
  redactText,
  validateOptions,
} from '@anymq/core/spi'
import { abortableWait } from './abortable-wait.js'
import { type PendingRow, toOutgoingMessage } from './outbox-row.js'
import type { ClaimOutcome, DeadRow, OutboxStore, RowFailure } from './outbox-store.js'

export interface OutboxRelayOptions {
  /** The connection the relay publishes through (any adapter). The relay does not close it. */
  mq: Anymq
  /** Rows claimed and published per round. Default 200. */
  batchSize?: number
  /** Claim-and-publish rounds this relay runs at once. Default 1. Per-key order holds at any value. */
  concurrency?: number
  /** Longest wait for new rows when idle. Default 1000 ms on Postgres (LISTEN/NOTIFY wakes it at once), 20 ms on SQLite (a cheap read). */
  pollIntervalMs?: number
  /** Failed publishes of one row before it moves to the dead-letter table. Default 10. Broker outages do not count. */
  maxAttempts?: number
  /** Wait before retrying a row whose publish failed: doubling from `initialMs` up to `maxMs`. Default 1 s to 5 min. */
  retryBackoff?: { initialMs?: number; maxMs?: number }
  /** Wait while the broker is unreachable: doubling from `initialMs` up to `maxMs`. Default 100 ms to 5 s. */
  outageBackoff?: { initialMs?: number; maxMs?: number }
  /** A publish that has not been confirmed after this long counts as failed (it may still arrive: a duplicate). Default 30 s. */
  publishTimeoutMs?: number
  /** Keep sent rows this long, then delete them; 0 deletes them as soon as they are confirmed. Default 1 h. */
  retentionMs?: number
  /** How often sent rows past the retention are deleted. Default 60 s. */
  cleanupIntervalMs?: number
  /** Errors that belong to no caller: a database or broker problem the relay retries. Default: logged to stderr. */
  onError?: (error: Error) => void
  /** Called after each confirmed publish with the rows it confirmed (metrics, latency). */
  onPublished?: (rows: readonly PublishedRow[]) => void
  /** Aborting it stops the relay like `stop()`. */
  signal?: AbortSignal
}

export interface PublishedRow {
  id: string
  key: string | undefined
  /** `queue 'orders'` / `topic 'order-events'`. */
  destination: string
  /** When add() ran (the message timestamp), epoch ms. */
  timestampMs: number
  /** When the row was inserted, epoch ms (the database's clock on Postgres). */
  createdAtMs: number
  /** When the broker confirmed it, epoch ms. */
  publishedAtMs: number
}

const doublingBackoff = objectOf({ initialMs: integer(1), maxMs: integer(1) }, '{ initialMs, maxMs }')

/** The checks of each relay option; `anymq-outbox-relay` runs them on its flags before it opens anything. */
export const relayChecks: Record<keyof OutboxRelayOptions, OptionCheck> = {
  mq: ofType('object', 'an anymq connection'),
  batchSize: integer(1, 10_000),
  concurrency: integer(1, 64),
  pollIntervalMs: integer(1),
  maxAttempts: integer(1, 1000),
  retryBackoff: doublingBackoff,
  outageBackoff: doublingBackoff,
  publishTimeoutMs: integer(1),
  retentionMs: integer(0),
  cleanupIntervalMs: integer(1),
  onError: ofType('function'),
  onPublished: ofType('function'),
  signal: abortSignal(),
}

/** Errors that say the broker is unreachable, not that this message is bad: they never count as an attempt. */
function isOutage(error: unknown): boolean {
  return error instanceof PublishTimeout || (AnymqError.isInstance(error) && (error.code === 'ERR_CONNECTION' || error.code === 'ERR_CLOSED'))
}

class PublishTimeout extends Error {
  constructor(ms: number) {
    super(`the broker did not confirm within ${ms} ms`)
    this.name = 'PublishTimeout'
  }
}

interface GroupResult {
  sent: PendingRow[]
  failed: { row: PendingRow; error: unknown }[]
  outage: unknown
}

/**
 * Publishes committed outbox rows through anymq: in insertion order per key, each row marked sent only
 * after the broker confirmed it. While the broker is unreachable it waits and retries (rows stay
 * pending; nothing counts as an attempt); a row the broker refuses is retried with backoff and moved
 * to the dead-letter table after `maxAttempts` (at once when the error can never go away, such as a
 * message larger than the broker accepts). At-least-once: a relay that dies between the broker's
 * confirm and marking the row publishes it again on restart, so consumers dedupe (see the inbox).
 */
export class OutboxRelay {
  /** Rows confirmed, rows whose publish failed (and will be retried), rows dead-lettered. */
  readonly counts = { published: 0, failed: 0, deadLettered: 0 }
  private readonly store: OutboxStore<unknown>
  private readonly options: Required<
    Pick<OutboxRelayOptions, 'batchSize' | 'concurrency' | 'pollIntervalMs' | 'maxAttempts' | 'publishTimeoutMs' | 'retentionMs' | 'cleanupIntervalMs'>
  >
  private readonly retryBackoff: { initialMs: number; maxMs: number }
  private readonly outageBackoff: { initialMs: number; maxMs: number }
  private readonly mq: Anymq
  private readonly abort = new AbortController()
  private readonly loops: Promise<void>[] = []
  private cleanupTimer: NodeJS.Timeout | undefined
  private stopping: Promise<void> | undefined
  private outages = 0

  constructor(
    store: OutboxStore<unknown>,
    private readonly settings: OutboxRelayOptions,
  ) {
    validateOptions(settings, relayChecks, 'relay options', 'outbox')
    if (!settings?.mq)
      throw new ConfigError([{ field: 'relay options.mq', message: 'required: the anymq connection to publish through' }], { adapter: 'outbox' })
    this.store = store
    this.mq = settings.mq
    this.options = {
      batchSize: settings.batchSize ?? 200,
      concurrency: settings.concurrency ?? 1,
      pollIntervalMs: settings.pollIntervalMs ?? (store.dialect === 'postgres' ? 1000 : 20),
      maxAttempts: settings.maxAttempts ?? 10,
      publishTimeoutMs: settings.publishTimeoutMs ?? 30_000,
      retentionMs: settings.retentionMs ?? 3_600_000,
      cleanupIntervalMs: settings.cleanupIntervalMs ?? 60_000,
    }
    this.retryBackoff = { initialMs: settings.retryBackoff?.initialMs ?? 1000, maxMs: settings.retryBackoff?.maxMs ?? 300_000 }
    this.outageBackoff = { initialMs: settings.outageBackoff?.initialMs ?? 100, maxMs: settings.outageBackoff?.maxMs ?? 5000 }
    settings.signal?.addEventListener('abort', () => void this.stop(), { once: true })
  }

  /** @internal called by `outbox.startRelay()` */
  start(): void {
    for (let index = 0; index < this.options.concurrency; index++) this.loops.push(this.loop())
    if (this.options.retentionMs > 0) {
      this.cleanupTimer = setInterval(() => void this.cleanup(), this.options.cleanupIntervalMs)
      this.cleanupTimer.unref()
    }
  }

  /** Stops claiming, finishes the rounds in progress (publish and mark), releases the relay's connections. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort()
      clearInterval(this.cleanupTimer)
      await Promise.allSettled(this.loops)
      await this.store.close()
    })()
    return this.stopping
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal
    while (!signal.aborted) {
      try {
        const claim = await this.store.claim(this.options.batchSize)
        if (claim.rows.length === 0) {
          await this.store.waitForWork(this.options.pollIntervalMs, signal)
          continue
        }
        const outcome = await this.publish(claim.rows)
        await claim.settle(outcome.settle)
        this.report(outcome)
        if (outcome.outage !== undefined) {
          this.outages++
          this.error(outcome.outage, 'the broker is unreachable; rows stay pending and are retried')
          await abortableWait(this.outageDelay(), signal)
        } else this.outages = 0
      } catch (error) {
        // A database problem (or a bug): whatever was claimed goes back; try again after a pause.
        this.outages++
        this.error(error, 'relay round failed; retrying')
        await abortableWait(this.outageDelay(), signal)
      }
    }
  }

  private async publish(rows: readonly PendingRow[]): Promise<{ settle: ClaimOutcome; outage: unknown; published: PendingRow[] }> {
    const groups = new Map<string, PendingRow[]>()
    for (const row of rows) {
      const group = groups.get(row.destination)
      if (group) group.push(row)
      else groups.set(row.destination, [row])
    }
    const results = await Promise.all([...groups].map(([destination, group]) => this.publishGroup(JSON.parse(destination) as Destination, group)))
    const sent: string[] = []
    const failed: RowFailure[] = []
    const dead: DeadRow[] = []
    const published: PendingRow[] = []
    let outage: unknown
    for (const result of results) {
      for (const row of result.sent) {
        sent.push(row.position)
        published.push(row)
      }
      for (const { row, error } of result.failed) {
        const attempts = row.attempts + 1
        const text = describeError(error)
        const permanent = AnymqError.isInstance(error) && !error.isRetryable
        if (permanent || attempts >= this.options.maxAttempts) dead.push({ position: row.position, error: text })
        else failed.push({ position: row.position, error: text, retryInMs: this.retryDelay(attempts) })
      }
      outage ??= result.outage
    }
    return { settle: { sent, failed, dead, deleteSent: this.options.retentionMs === 0 }, outage, published }
  }

  private async publishGroup(destination: Destination, rows: PendingRow[]): Promise<GroupResult> {
    const result: GroupResult = { sent: [], failed: [], outage: undefined }
    const capabilities = this.mq.capabilities
    const ready: PendingRow[] = []
    for (const row of rows) {
      const message = toOutgoingMessage(row)
      const size = messageSize(message)
      if (size > capabilities.maxMessageBytes)
        result.failed.push({ row, error: new MessageTooLargeError(size, capabilities.maxMessageBytes, { adapter: this.mq.adapter }) })
      else if (message.delayMs > 0 && (capabilities.delay === false || message.delayMs > capabilities.delay.maxMs))
        result.failed.push({ row, error: new UnsupportedFeatureError(this.mq.adapter, `a delay of ${message.delayMs} ms`, 'add the message without delayMs') })
      else ready.push(row)
    }
    if (ready.length === 0) return result
    try {
      await this.send(destination, ready.map(toOutgoingMessage))
      result.sent.push(...ready)
      return result
    } catch (error) {
      if (isOutage(error)) {
        result.outage = error
        return result
      }
      if (ready.length === 1) {
        result.failed.push({ row: ready[0]!, error })
        return result
      }
    }
    // The batch failed for a reason that may be one message's: find it, one by one, keeping key order.
    const blocked = new Set<string>()
    for (const row of ready) {
      if (result.outage !== undefined) break
      if (row.key !== undefined && blocked.has(row.key)) continue
      try {
        await this.send(destination, [toOutgoingMessage(row)])
        result.sent.push(row)
      } catch (error) {
        if (isOutage(error)) result.outage = error
        else {
          result.failed.push({ row, error })
          if (row.key !== undefined) blocked.add(row.key)
        }
      }
    }
    return result
  }

  private async send(destination: Destination, messages: OutgoingMessage[]): Promise<void> {
    const timeoutMs = this.options.publishTimeoutMs
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort()
        reject(new PublishTimeout(timeoutMs))
      }, timeoutMs)
    })
    try {
      await Promise.race([transportOf(this.mq).publish(destination, messages, controller.signal), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  private report(outcome: { settle: ClaimOutcome; published: PendingRow[] }): void {
    this.counts.published += outcome.settle.sent.length
    this.counts.failed += outcome.settle.failed.length
    this.counts.deadLettered += outcome.settle.dead.length
    for (const dead of outcome.settle.dead) this.error(new Error(dead.error), `outbox row ${dead.position} moved to the dead-letter table`)
    if (this.settings.onPublished && outcome.published.length > 0) {
      const now = Date.now()
      try {
        this.settings.onPublished(
          outcome.published.map((row) => ({
            id: row.id,
            key: row.key,
            destination: describe(row.destination),
            timestampMs: row.timestampMs,
            createdAtMs: row.createdAtMs,
            publishedAtMs: now,
          })),
        )
      } catch (error) {
        this.error(error, 'onPublished threw')
      }
    }
  }

  private async cleanup(): Promise<void> {
    try {
      while ((await this.store.cleanup(this.options.retentionMs, 5000)) === 5000 && !this.abort.signal.aborted) {}
    } catch (error) {
      this.error(error, 'cleaning sent rows failed')
    }
  }

  private retryDelay(attempts: number): number {
    const { initialMs, maxMs } = this.retryBackoff
    return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempts - 1))
  }

  private outageDelay(): number {
    const { initialMs, maxMs } = this.outageBackoff
    const delay = Math.min(maxMs, initialMs * 2 ** Math.max(0, this.outages - 1))
    return Math.round(delay / 2 + (Math.random() * delay) / 2)
  }

  private error(error: unknown, what: string): void {
    const wrapped = new Error(redactText(`[anymq] [outbox] ${what}: ${describeError(error)}`), { cause: error })
    if (this.settings.onError) this.settings.onError(wrapped)
    else console.error(wrapped.message)
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return redactText(`${error.name}: ${error.message}`)
  return redactText(String(error))
}

function describe(destination: string): string {
  const parsed = JSON.parse(destination) as Destination
  if (parsed.kind === 'queue') return `queue '${parsed.queue.name}'`
  if (parsed.kind === 'topic') return `topic '${parsed.topic}'`
  return destination
}
