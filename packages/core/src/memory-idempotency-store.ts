import type { IdempotencyOutcome, IdempotencyProcessOptions, IdempotencyStore } from './idempotency-store.js'

/** Options of {@link MemoryIdempotencyStore}. */
export interface MemoryIdempotencyStoreOptions {
  /** How long a processed id is remembered when the call gives no `ttlMs`. Default 24 h. */
  ttlMs?: number
  /** The clock; tests pass a fake one. Default `Date.now`. */
  now?: () => number
}

/**
 * An {@link IdempotencyStore} in this process's memory: for tests and for single-process consumers.
 * Ids are forgotten when the process exits, so it does not protect against a duplicate delivered to
 * another process or after a restart — use a Redis, PostgreSQL or SQLite store (`@anymq/outbox`) there.
 * A second delivery of an id whose work is running waits for it, then is a duplicate (work succeeded)
 * or runs (work failed).
 */
export class MemoryIdempotencyStore implements IdempotencyStore<undefined> {
  private readonly done = new Map<string, number>()
  private readonly running = new Map<string, Promise<unknown>>()
  private readonly ttlMs: number
  private readonly now: () => number
  private writes = 0

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? 24 * 3_600_000
    this.now = options.now ?? Date.now
  }

  async process<R>(messageId: string, work: (context: undefined) => R | Promise<R>, options: IdempotencyProcessOptions = {}): Promise<IdempotencyOutcome<R>> {
    for (;;) {
      const running = this.running.get(messageId)
      if (running === undefined) break
      await running.catch(() => {})
    }
    const expiresAt = this.done.get(messageId)
    if (expiresAt !== undefined && expiresAt > this.now()) return { duplicate: true }
    this.done.delete(messageId)
    const run = (async () => work(undefined))()
    this.running.set(messageId, run)
    try {
      const result = await run
      this.done.set(messageId, this.now() + (options.ttlMs ?? this.ttlMs))
      // Expired ids are ignored anyway; sweeping now and then keeps the map from growing without bound.
      if (++this.writes % 1024 === 0) this.cleanup()
      return { duplicate: false, result }
    } finally {
      this.running.delete(messageId)
    }
  }

  /** Forgets ids whose retention has passed; returns how many. Expired ids are also ignored without it. */
  cleanup(): number {
    const now = this.now()
    let removed = 0
    for (const [id, expiresAt] of this.done) {
      if (expiresAt <= now) {
        this.done.delete(id)
        removed++
      }
    }
    return removed
  }
}

/** A {@link MemoryIdempotencyStore}. */
export function memoryIdempotencyStore(options?: MemoryIdempotencyStoreOptions): MemoryIdempotencyStore {
  return new MemoryIdempotencyStore(options)
}
