import { randomUUID } from 'node:crypto'
import { ConfigError } from '@anymq/core'
import { abortableWait } from './abortable-wait.js'
import type { SqliteDatabase } from './database-types.js'
import { type OutboxDeadLetter, type OutboxRecord, recordColumns, recordValues, rowFromColumns } from './outbox-row.js'
import type { ClaimOutcome, OutboxClaim, OutboxStore } from './outbox-store.js'
import { deadLetterFromRow } from './postgres-outbox-store.js'
import { migrationSql, resolveTableNames, type TableNames } from './table-names.js'

export interface SqliteOutboxStoreOptions {
  /**
   * A `better-sqlite3` Database the relay and the dead-letter calls use. Give the relay its own
   * connection to the file (the application keeps its own for `add()`); WAL mode is recommended.
   */
  database: SqliteDatabase
  tables?: Partial<TableNames>
  /**
   * How long a relay holds rows it claimed before another relay may take them (a relay that died
   * mid-batch releases its rows after this). Longer than the relay's publish timeout. Default 60 s.
   */
  leaseMs?: number
}

const columnList = recordColumns.join(', ')
const placeholders = recordColumns.map(() => '?').join(', ')

/**
 * The outbox on SQLite. SQLite has no row locks, so a claim is a short `BEGIN IMMEDIATE` transaction
 * that stamps rows with the relay's id and a lease; the relay publishes outside any transaction and
 * then marks the rows sent. Several relays (processes) on one file share the work through the leases.
 */
export class SqliteOutboxStore implements OutboxStore<SqliteDatabase> {
  readonly dialect = 'sqlite'
  readonly tables: TableNames
  readonly leaseMs: number
  private readonly database: SqliteDatabase
  private readonly relayId = randomUUID()
  private readonly waiters = new Set<() => void>()
  private readonly inserts = new WeakMap<SqliteDatabase, { run(...parameters: unknown[]): unknown }>()

  constructor(options: SqliteOutboxStoreOptions) {
    if (typeof options?.database?.prepare !== 'function')
      throw new ConfigError([{ field: 'sqlite outbox.database', message: 'expected a better-sqlite3 Database' }], { adapter: 'outbox' })
    const leaseMs = options.leaseMs ?? 60_000
    if (!Number.isInteger(leaseMs) || leaseMs < 100)
      throw new ConfigError([{ field: 'sqlite outbox.leaseMs', message: `expected an integer of at least 100, got ${JSON.stringify(leaseMs)}` }], {
        adapter: 'outbox',
      })
    this.database = options.database
    this.tables = resolveTableNames(options.tables, 'sqlite outbox')
    this.leaseMs = leaseMs
  }

  async migrate(): Promise<void> {
    this.database.exec(migrationSql('sqlite', this.tables))
  }

  async insert(tx: SqliteDatabase, records: readonly OutboxRecord[]): Promise<void> {
    this.insertSync(tx, records)
  }

  insertSync(tx: SqliteDatabase, records: readonly OutboxRecord[]): void {
    if (!tx.inTransaction) {
      throw new ConfigError(
        [{ field: 'tx', message: 'outbox.add() runs inside your transaction: call it within db.transaction(…) or after BEGIN, on the same connection' }],
        { adapter: 'outbox' },
      )
    }
    let insert = this.inserts.get(tx)
    if (!insert) {
      insert = tx.prepare(`INSERT INTO ${this.tables.outbox} (${columnList}, created_at) VALUES (${placeholders}, ?)`)
      this.inserts.set(tx, insert)
    }
    const now = Date.now()
    for (const record of records) insert.run(...recordValues(record), now)
    // A relay in this process need not wait for its next poll once the transaction commits (a
    // synchronous db.transaction() has by then); one in another process polls.
    setImmediate(() => this.wake())
  }

  async claim(limit: number): Promise<OutboxClaim> {
    const database = this.database
    if (database.inTransaction) return { rows: [], settle: async () => {} } // the application holds this connection; next round
    const table = this.tables.outbox
    const now = Date.now()
    let rows: Record<string, unknown>[] = []
    // Polling is a plain read; the write lock is taken only when there is something to claim.
    const due = database
      .prepare(`SELECT 1 FROM ${table} WHERE sent_at IS NULL AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?) LIMIT 1`)
      .get(now, now)
    if (due === undefined) return { rows: [], settle: async () => {} }
    database.exec('BEGIN IMMEDIATE')
    try {
      rows = database
        .prepare(
          `SELECT o.position, ${recordColumns.map((column) => `o.${column}`).join(', ')}, o.attempts, o.created_at
           FROM ${table} o
           WHERE o.sent_at IS NULL AND o.next_attempt_at <= @now AND (o.claimed_until IS NULL OR o.claimed_until <= @now)
             AND (o.key IS NULL OR NOT EXISTS (
               SELECT 1 FROM ${table} e
               WHERE e.key = o.key AND e.sent_at IS NULL AND e.position < o.position
                 AND (e.next_attempt_at > @now OR (e.claimed_until IS NOT NULL AND e.claimed_until > @now))
             ))
           ORDER BY o.position LIMIT @limit`,
        )
        .all({ now, limit }) as Record<string, unknown>[]
      if (rows.length > 0) {
        database
          .prepare(`UPDATE ${table} SET claimed_by = ?, claimed_until = ? WHERE position IN (SELECT value FROM json_each(?))`)
          .run(this.relayId, now + this.leaseMs, JSON.stringify(rows.map((row) => Number(row.position))))
      }
      database.exec('COMMIT')
    } catch (error) {
      if (database.inTransaction) database.exec('ROLLBACK')
      throw error
    }
    const claimed = rows.map(rowFromColumns)
    return {
      rows: claimed,
      settle: async (outcome) =>
        this.settle(
          outcome,
          claimed.map((row) => row.position),
        ),
    }
  }

  private settle(outcome: ClaimOutcome, claimed: readonly string[]): void {
    const database = this.database
    const { outbox, deadLetters } = this.tables
    const list = (positions: readonly string[]) => JSON.stringify(positions.map(Number))
    const now = Date.now()
    database.exec('BEGIN IMMEDIATE')
    try {
      if (outcome.sent.length > 0) {
        if (outcome.deleteSent) database.prepare(`DELETE FROM ${outbox} WHERE position IN (SELECT value FROM json_each(?))`).run(list(outcome.sent))
        else
          database
            .prepare(`UPDATE ${outbox} SET sent_at = ?, claimed_by = NULL, claimed_until = NULL WHERE position IN (SELECT value FROM json_each(?))`)
            .run(now, list(outcome.sent))
      }
      const fail = database.prepare(
        `UPDATE ${outbox} SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL WHERE position = ?`,
      )
      for (const row of outcome.failed) fail.run(row.error, now + row.retryInMs, Number(row.position))
      if (outcome.dead.length > 0) {
        const move = database.prepare(
          `INSERT INTO ${deadLetters} (${columnList}, created_at, attempts, error, failed_at)
           SELECT ${columnList}, created_at, attempts + 1, ?, ? FROM ${outbox} WHERE position = ?`,
        )
        const remove = database.prepare(`DELETE FROM ${outbox} WHERE position = ?`)
        for (const row of outcome.dead) {
          move.run(row.error, now, Number(row.position))
          remove.run(Number(row.position))
        }
      }
      // Whatever was neither sent, failed nor dead goes back at once, if this relay still holds it.
      database
        .prepare(`UPDATE ${outbox} SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ? AND position IN (SELECT value FROM json_each(?))`)
        .run(this.relayId, list(claimed))
      database.exec('COMMIT')
    } catch (error) {
      if (database.inTransaction) database.exec('ROLLBACK')
      throw error
    }
  }

  waitForWork(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return abortableWait(timeoutMs, signal, this.waiters)
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter()
  }

  async cleanup(retentionMs: number, limit: number): Promise<number> {
    const table = this.tables.outbox
    const result = this.database
      .prepare(
        `DELETE FROM ${table} WHERE position IN (
           SELECT position FROM ${table} WHERE sent_at IS NOT NULL AND sent_at < ? ORDER BY sent_at LIMIT ?
         )`,
      )
      .run(Date.now() - retentionMs, limit)
    return result.changes
  }

  async pendingCount(): Promise<number> {
    const row = this.database.prepare(`SELECT count(*) AS count FROM ${this.tables.outbox} WHERE sent_at IS NULL`).get() as { count: number }
    return Number(row.count)
  }

  async listDeadLetters(limit: number, afterPosition?: string): Promise<OutboxDeadLetter[]> {
    const rows = this.database
      .prepare(
        `SELECT position, ${columnList}, attempts, error, created_at, failed_at FROM ${this.tables.deadLetters}
         WHERE position > ? ORDER BY position LIMIT ?`,
      )
      .all(Number(afterPosition ?? 0), limit) as Record<string, unknown>[]
    return rows.map((row) => deadLetterFromRow(row))
  }

  async replayDeadLetters(positions: readonly string[] | undefined): Promise<number> {
    const { outbox, deadLetters } = this.tables
    const database = this.database
    const filter = positions === undefined ? '' : 'WHERE position IN (SELECT value FROM json_each(?))'
    const parameters = positions === undefined ? [] : [JSON.stringify(positions.map(Number))]
    database.exec('BEGIN IMMEDIATE')
    try {
      const now = Date.now()
      const result = database
        .prepare(`INSERT INTO ${outbox} (${columnList}, created_at) SELECT ${columnList}, ? FROM ${deadLetters} ${filter} ORDER BY position`)
        .run(now, ...parameters)
      database.prepare(`DELETE FROM ${deadLetters} ${filter}`).run(...parameters)
      database.exec('COMMIT')
      this.wake()
      return result.changes
    } catch (error) {
      if (database.inTransaction) database.exec('ROLLBACK')
      throw error
    }
  }

  async close(): Promise<void> {
    this.wake()
  }
}
