import { ConfigError } from '@anymq/core'
import { abortableWait } from './abortable-wait.js'
import type { PostgresPool, PostgresPoolClient, PostgresQueryable } from './database-types.js'
import { describeDestinationJson, type OutboxDeadLetter, type OutboxRecord, recordColumns, recordValues, rowFromColumns } from './outbox-row.js'
import type { ClaimOutcome, OutboxClaim, OutboxStore } from './outbox-store.js'
import { migrationSql, resolveTableNames, type TableNames } from './table-names.js'

export interface PostgresOutboxStoreOptions {
  /** A `pg` Pool. Relays check connections out of it: one to LISTEN, one per claim while it publishes. */
  pool: PostgresPool
  /** Table names; defaults `anymq_outbox`, `anymq_outbox_dead_letters`, `anymq_inbox`. */
  tables?: Partial<TableNames>
  /** LISTEN for the NOTIFY the migration's trigger sends on commit, for low latency. Default true. */
  listen?: boolean
}

const columnList = recordColumns.join(', ')
const claimColumns = `${['position', ...recordColumns, 'attempts'].map((column) => `o.${column}`).join(', ')}, (extract(epoch from o.created_at) * 1000)::bigint AS created_at`

/**
 * The outbox on PostgreSQL. A claim is a transaction holding its rows with `FOR UPDATE SKIP LOCKED`
 * while the relay publishes them, so several relays share the work, and a relay that dies releases
 * its rows at once (its connection drops and the transaction rolls back).
 */
export class PostgresOutboxStore implements OutboxStore<PostgresQueryable> {
  readonly dialect = 'postgres'
  readonly tables: TableNames
  private readonly pool: PostgresPool
  private readonly listen: boolean
  private listener: Promise<PostgresPoolClient | undefined> | undefined
  private readonly waiters = new Set<() => void>()
  private listening: PostgresPoolClient | undefined

  constructor(options: PostgresOutboxStoreOptions) {
    if (typeof options?.pool?.connect !== 'function' || typeof options.pool.query !== 'function')
      throw new ConfigError([{ field: 'postgres outbox.pool', message: 'expected a pg Pool' }], { adapter: 'outbox' })
    this.pool = options.pool
    this.tables = resolveTableNames(options.tables, 'postgres outbox')
    this.listen = options.listen ?? true
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      // Two processes migrating at once would race on CREATE … IF NOT EXISTS.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('anymq_outbox_migration'))")
      await client.query(migrationSql('postgres', this.tables))
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      client.release()
    }
  }

  async insert(tx: PostgresQueryable, records: readonly OutboxRecord[]): Promise<void> {
    if (typeof tx !== 'object' || tx === null || typeof tx.query !== 'function' || 'idleCount' in tx) {
      // A Pool would run the insert on any connection, outside the caller's transaction.
      throw new ConfigError(
        [
          {
            field: 'tx',
            message: 'pass the pg client that runs your transaction (after BEGIN), not the pool: the row must commit or roll back with your writes',
          },
        ],
        { adapter: 'outbox' },
      )
    }
    if (records.length === 0) return
    const width = recordColumns.length
    const values: unknown[] = []
    const tuples: string[] = []
    for (const record of records) {
      const base = values.length
      values.push(...recordValues(record))
      tuples.push(`(${Array.from({ length: width }, (_, index) => `$${base + index + 1}`).join(', ')})`)
    }
    await tx.query(`INSERT INTO ${this.tables.outbox} (${columnList}) VALUES ${tuples.join(', ')}`, values)
  }

  async claim(limit: number): Promise<OutboxClaim> {
    const client = await this.pool.connect()
    let released = false
    const release = (error?: Error) => {
      if (released) return
      released = true
      client.release(error)
    }
    try {
      await client.query('BEGIN')
      const table = this.tables.outbox
      const { rows } = await client.query(
        `WITH locked AS (
           SELECT position, key FROM ${table} c
           WHERE sent_at IS NULL AND next_attempt_at <= now()
             AND (key IS NULL OR NOT EXISTS (
               SELECT 1 FROM ${table} w
               WHERE w.key = c.key AND w.sent_at IS NULL AND w.position < c.position AND w.next_attempt_at > now()
             ))
           ORDER BY position
           LIMIT $1
           FOR UPDATE SKIP LOCKED
         )
         SELECT ${claimColumns}
         FROM ${table} o JOIN locked l ON o.position = l.position
         WHERE l.key IS NULL OR NOT EXISTS (
           SELECT 1 FROM ${table} e
           WHERE e.key = l.key AND e.sent_at IS NULL AND e.position < l.position
             AND e.position NOT IN (SELECT position FROM locked)
         )
         ORDER BY o.position`,
        [limit],
      )
      if (rows.length === 0) {
        await client.query('COMMIT')
        release()
        return { rows: [], settle: async () => {} }
      }
      return {
        rows: rows.map(rowFromColumns),
        settle: async (outcome) => {
          try {
            await this.settle(client, outcome)
            await client.query('COMMIT')
            release()
          } catch (error) {
            await client.query('ROLLBACK').catch(() => {})
            release(error as Error)
            throw error
          }
        },
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      release(error as Error)
      throw error
    }
  }

  private async settle(client: PostgresQueryable, outcome: ClaimOutcome): Promise<void> {
    const { outbox, deadLetters } = this.tables
    if (outcome.sent.length > 0) {
      if (outcome.deleteSent) await client.query(`DELETE FROM ${outbox} WHERE position = ANY($1::bigint[])`, [outcome.sent])
      else await client.query(`UPDATE ${outbox} SET sent_at = now() WHERE position = ANY($1::bigint[])`, [outcome.sent])
    }
    if (outcome.failed.length > 0) {
      await client.query(
        `UPDATE ${outbox} o SET attempts = o.attempts + 1, last_error = f.error,
           next_attempt_at = now() + f.retry_in_ms * interval '1 millisecond'
         FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS f(position, error, retry_in_ms)
         WHERE o.position = f.position`,
        [outcome.failed.map((row) => row.position), outcome.failed.map((row) => row.error), outcome.failed.map((row) => row.retryInMs)],
      )
    }
    if (outcome.dead.length > 0) {
      await client.query(
        `WITH moved AS (
           DELETE FROM ${outbox} o USING unnest($1::bigint[], $2::text[]) AS f(position, error)
           WHERE o.position = f.position
           RETURNING o.*, f.error AS final_error
         )
         INSERT INTO ${deadLetters} (${columnList}, created_at, attempts, error)
         SELECT ${columnList}, created_at, attempts + 1, final_error FROM moved ORDER BY position`,
        [outcome.dead.map((row) => row.position), outcome.dead.map((row) => row.error)],
      )
    }
  }

  async waitForWork(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.listen) await this.startListening()
    await abortableWait(timeoutMs, signal, this.waiters)
  }

  private startListening(): Promise<PostgresPoolClient | undefined> {
    this.listener ??= (async () => {
      const client = await this.pool.connect()
      const wake = () => {
        for (const waiter of [...this.waiters]) waiter()
      }
      client.on('notification', wake)
      client.on('error', () => {
        // The LISTEN connection broke: poll until the next wait listens again.
        client.removeListener('notification', wake)
        if (this.listening === client) {
          this.listening = undefined
          this.listener = undefined
          client.release(true)
        }
      })
      this.listening = client
      await client.query(`LISTEN ${this.tables.outbox}`)
      return client
    })().catch(() => {
      this.listener = undefined
      return undefined
    })
    return this.listener
  }

  async cleanup(retentionMs: number, limit: number): Promise<number> {
    const result = await this.pool.query(
      `DELETE FROM ${this.tables.outbox} WHERE position IN (
         SELECT position FROM ${this.tables.outbox}
         WHERE sent_at IS NOT NULL AND sent_at < now() - $1 * interval '1 millisecond'
         ORDER BY sent_at LIMIT $2
       )`,
      [retentionMs, limit],
    )
    return result.rowCount ?? 0
  }

  async pendingCount(): Promise<number> {
    const { rows } = await this.pool.query(`SELECT count(*)::int AS count FROM ${this.tables.outbox} WHERE sent_at IS NULL`)
    return Number(rows[0]?.count ?? 0)
  }

  async listDeadLetters(limit: number, afterPosition?: string): Promise<OutboxDeadLetter[]> {
    const { rows } = await this.pool.query(
      `SELECT position, ${columnList}, attempts, error, created_at, failed_at FROM ${this.tables.deadLetters}
       WHERE position > $1 ORDER BY position LIMIT $2`,
      [afterPosition ?? '0', limit],
    )
    return rows.map((row) => deadLetterFromRow(row))
  }

  async replayDeadLetters(positions: readonly string[] | undefined): Promise<number> {
    const { outbox, deadLetters } = this.tables
    const filter = positions === undefined ? '' : 'WHERE position = ANY($1::bigint[])'
    const result = await this.pool.query(
      `WITH moved AS (DELETE FROM ${deadLetters} ${filter} RETURNING *)
       INSERT INTO ${outbox} (${columnList}) SELECT ${columnList} FROM moved ORDER BY position`,
      positions === undefined ? [] : [positions],
    )
    return result.rowCount ?? 0
  }

  async close(): Promise<void> {
    const listener = this.listener
    this.listener = undefined
    const client = await listener
    if (client && this.listening === client) {
      this.listening = undefined
      await client.query(`UNLISTEN ${this.tables.outbox}`).catch(() => {})
      client.release()
    }
    for (const waiter of [...this.waiters]) waiter()
  }
}

export function deadLetterFromRow(row: Record<string, unknown>): OutboxDeadLetter {
  const pending = rowFromColumns({ ...row, created_at: 0 })
  const date = (value: unknown) => (value instanceof Date ? value : new Date(Number(value)))
  return {
    position: pending.position,
    id: pending.id,
    destination: describeDestinationJson(pending.destination),
    key: pending.key,
    headers: pending.headers,
    body: pending.body,
    contentType: pending.contentType,
    attempts: Number(row.attempts),
    error: String(row.error),
    createdAt: date(row.created_at),
    failedAt: date(row.failed_at),
  }
}
