/** The outcome of {@link IdempotencyStore.process}: the work ran (with its result), or the id was processed already. */
export type IdempotencyOutcome<R> = { duplicate: false; result: R } | { duplicate: true }

/** Options of one {@link IdempotencyStore.process} call. */
export interface IdempotencyProcessOptions {
  /**
   * How long the id stays recorded after the work succeeded; a repeat arriving later runs again.
   * Absent: the store's own retention.
   */
  ttlMs?: number
}

/**
 * Where the idempotent consumer records the ids it has processed (`consume(handler, { idempotency })`).
 * Core ships {@link MemoryIdempotencyStore}; `@anymq/outbox` has stores on Redis, PostgreSQL and SQLite
 * (its inboxes implement this interface).
 *
 * Contract of {@link process}:
 * - it runs `work` at most once per message id while the id is recorded, and records the id only when
 *   `work` resolved; when `work` throws nothing is recorded, the error is rethrown and a later
 *   delivery runs `work` again;
 * - a delivery of an id whose work is running right now either waits for it or throws a retryable
 *   error; it never runs `work` concurrently for one id;
 * - it resolves `{ duplicate: true }` without calling `work` for an id recorded already.
 *
 * `Context` is what a store hands the work (a database transaction); core's consumer ignores it.
 */
export interface IdempotencyStore<Context = unknown> {
  process<R>(messageId: string, work: (context: Context) => R | Promise<R>, options?: IdempotencyProcessOptions): Promise<IdempotencyOutcome<R>>
}

/** `consume(handler, { idempotency })`: skip messages whose id the store has processed already. */
export interface IdempotencyOptions {
  /** Records processed ids; scope it per consumer (two subscriptions processing one message use two stores or consumer names). */
  store: IdempotencyStore<any>
  /** How long a processed id is remembered. Default: the store's own retention. */
  ttlMs?: number
}
