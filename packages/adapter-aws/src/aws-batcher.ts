import { AbortedError, ClosedError } from '@anymq/core/spi'
import { adapterName } from './aws-errors.js'

/** What a flush says about one entry of a batch request. */
export type EntryOutcome = { ok: true } | { ok: false; error: Error; retryable: boolean }

export interface BatcherOptions<Entry> {
  /** Entries per request (10 for every SQS/SNS batch call). */
  maxEntries: number
  /** Total bytes per request, with `size` measuring one entry. */
  maxBytes?: number
  size?: (entry: Entry) => number
  /** Requests in flight per key at once. */
  concurrency: number
  /** Attempts for an entry that failed retryably (a failed batch entry is retried, then reported). */
  maxAttempts: number
  /** Sends one batch; resolves with one outcome per entry, in order, or rejects for the whole request. */
  flush: (key: string, entries: Entry[]) => Promise<EntryOutcome[]>
  /** Whether a whole-request error is worth another try (the SDK has already retried it itself). */
  retryable: (error: unknown) => boolean
}

interface Pending<Entry> {
  entry: Entry
  attempts: number
  resolve: () => void
  reject: (error: Error) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

interface Lane<Entry> {
  waiting: Pending<Entry>[]
  inflight: number
  scheduled: boolean
}

/**
 * Coalesces single operations (send, publish, delete, change visibility) into batch requests of up to
 * 10 per destination. Entries added in the same tick, or while earlier requests to the same
 * destination are in flight, travel together: no added latency, far fewer round trips. Every entry's
 * promise settles with its own outcome; a failed entry is retried or rejected, never dropped.
 */
export class Batcher<Entry> {
  private readonly lanes = new Map<string, Lane<Entry>>()
  private readonly idleWaiters = new Set<() => void>()
  private closedError: Error | undefined

  constructor(private readonly options: BatcherOptions<Entry>) {}

  add(key: string, entry: Entry, signal?: AbortSignal): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError)
    if (signal?.aborted) return Promise.reject(new AbortedError('the send', { adapter: adapterName }))
    return new Promise<void>((resolve, reject) => {
      const pending: Pending<Entry> = { entry, attempts: 0, resolve, reject, signal, onAbort: undefined }
      if (signal) {
        pending.onAbort = () => {
          const lane = this.lanes.get(key)
          const index = lane ? lane.waiting.indexOf(pending) : -1
          // Only what has not left yet can be called back.
          if (lane && index >= 0) {
            lane.waiting.splice(index, 1)
            reject(new AbortedError('the send', { adapter: adapterName }))
            this.checkIdle()
          }
        }
        signal.addEventListener('abort', pending.onAbort, { once: true })
      }
      this.enqueue(key, pending)
    })
  }

  /** Resolves once nothing is waiting or in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.add(resolve))
  }

  /** Rejects everything not yet sent and refuses new entries. */
  abandon(error: Error = new ClosedError('the connection', { adapter: adapterName })): void {
    this.closedError = error
    for (const lane of this.lanes.values()) {
      for (const pending of lane.waiting.splice(0)) this.settle(pending, error)
    }
    this.checkIdle()
  }

  private enqueue(key: string, pending: Pending<Entry>): void {
    let lane = this.lanes.get(key)
    if (!lane) {
      lane = { waiting: [], inflight: 0, scheduled: false }
      this.lanes.set(key, lane)
    }
    lane.waiting.push(pending)
    this.schedule(key, lane)
  }

  private schedule(key: string, lane: Lane<Entry>): void {
    if (lane.scheduled) return
    lane.scheduled = true
    setImmediate(() => {
      lane.scheduled = false
      this.pump(key, lane)
    })
  }

  private pump(key: string, lane: Lane<Entry>): void {
    while (lane.inflight < this.options.concurrency && lane.waiting.length > 0) {
      const batch = this.take(lane)
      lane.inflight++
      void this.send(key, batch).finally(() => {
        lane.inflight--
        if (lane.waiting.length > 0) this.pump(key, lane)
        else if (lane.inflight === 0) this.lanes.delete(key)
        this.checkIdle()
      })
    }
  }

  private take(lane: Lane<Entry>): Pending<Entry>[] {
    const { maxEntries, maxBytes, size } = this.options
    const batch: Pending<Entry>[] = []
    let bytes = 0
    while (batch.length < maxEntries && lane.waiting.length > 0) {
      const next = lane.waiting[0] as Pending<Entry>
      const entryBytes = size ? size(next.entry) : 0
      if (maxBytes !== undefined && batch.length > 0 && bytes + entryBytes > maxBytes) break
      bytes += entryBytes
      batch.push(lane.waiting.shift() as Pending<Entry>)
    }
    return batch
  }

  private async send(key: string, batch: Pending<Entry>[]): Promise<void> {
    for (const pending of batch) pending.attempts++
    let outcomes: EntryOutcome[]
    try {
      outcomes = await this.options.flush(
        key,
        batch.map((pending) => pending.entry),
      )
    } catch (error) {
      const retryable = this.options.retryable(error)
      outcomes = batch.map(() => ({ ok: false, error: error as Error, retryable }))
    }
    const again: Pending<Entry>[] = []
    batch.forEach((pending, index) => {
      const outcome = outcomes[index] ?? { ok: false, error: new Error('the broker answered nothing for this entry'), retryable: true }
      if (outcome.ok) this.settle(pending, undefined)
      else if (outcome.retryable && pending.attempts < this.options.maxAttempts && !this.closedError) again.push(pending)
      else this.settle(pending, outcome.error)
    })
    if (again.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** Math.min(6, (again[0] as Pending<Entry>).attempts)))
      const lane = this.lanes.get(key)
      if (this.closedError || !lane) for (const pending of again) this.settle(pending, this.closedError ?? new Error('lane gone'))
      else lane.waiting.unshift(...again)
    }
  }

  private settle(pending: Pending<Entry>, error: Error | undefined): void {
    if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort)
    if (error) pending.reject(error)
    else pending.resolve()
  }

  private isIdle(): boolean {
    for (const lane of this.lanes.values()) if (lane.waiting.length > 0 || lane.inflight > 0) return false
    return true
  }

  private checkIdle(): void {
    if (this.idleWaiters.size === 0 || !this.isIdle()) return
    for (const resolve of [...this.idleWaiters]) resolve()
    this.idleWaiters.clear()
  }
}
