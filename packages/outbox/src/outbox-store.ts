import type { OutboxDeadLetter, OutboxRecord, PendingRow } from './outbox-row.js'
import type { TableNames } from './table-names.js'

/**
 * What the outbox and its relay need from a database. One implementation per database
 * (`PostgresOutboxStore`, `SqliteOutboxStore`); `Tx` is what the application passes to `add()`.
 */
export interface OutboxStore<Tx> {
  readonly dialect: 'postgres' | 'sqlite'
  readonly tables: TableNames
  /** Creates the tables if missing (the shipped SQL with the configured names). Safe to run again. */
  migrate(): Promise<void>
  /** Writes records inside the caller's transaction `tx`. */
  insert(tx: Tx, records: readonly OutboxRecord[]): Promise<void>
  /** The synchronous form, for databases whose transactions are synchronous (SQLite). */
  insertSync?(tx: Tx, records: readonly OutboxRecord[]): void
  /**
   * Takes up to `limit` due rows, oldest first, that no other relay holds and whose key has no older
   * unsent row held elsewhere or waiting for a retry. Resolves with no rows when there is nothing to do.
   */
  claim(limit: number): Promise<OutboxClaim>
  /** Resolves when new rows may have been committed, or after `timeoutMs`, or when `signal` aborts. */
  waitForWork(timeoutMs: number, signal: AbortSignal): Promise<void>
  /** Deletes rows sent more than `retentionMs` ago, at most `limit`; resolves with how many. */
  cleanup(retentionMs: number, limit: number): Promise<number>
  /** Rows not yet sent (dead letters not counted). */
  pendingCount(): Promise<number>
  listDeadLetters(limit: number, afterPosition?: string): Promise<OutboxDeadLetter[]>
  /** Moves dead letters back into the outbox as new rows (attempts reset); all when `positions` is absent. */
  replayDeadLetters(positions: readonly string[] | undefined): Promise<number>
  /** Releases what the store opened itself (a LISTEN connection). Idempotent. */
  close(): Promise<void>
}

export interface RowFailure {
  position: string
  /** `Name: message` of the publish error. */
  error: string
  /** Wait this long before the next attempt. */
  retryInMs: number
}

export interface DeadRow {
  position: string
  error: string
}

export interface ClaimOutcome {
  /** Published and confirmed by the broker. */
  sent: readonly string[]
  /** Failed; attempts + 1, retried later. */
  failed: readonly RowFailure[]
  /** Failed for the last time; moved to the dead-letter table. */
  dead: readonly DeadRow[]
  /** Delete sent rows at once instead of marking them (retention 0). */
  deleteSent: boolean
}

export interface OutboxClaim {
  readonly rows: readonly PendingRow[]
  /** Records the outcome; rows in none of the lists are released untouched. Call once. */
  settle(outcome: ClaimOutcome): Promise<void>
}
