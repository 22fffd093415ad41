import { nameCheck, ofType, validateOptions } from '@anymq/core/spi'
import type { PostgresPool, PostgresQueryable } from './database-types.js'
import { BaseInbox, type InboxOutcome } from './inbox.js'
import { resolveTableNames } from './table-names.js'

export interface PostgresInboxOptions {
  /** A `pg` Pool; each message gets a connection and a transaction of its own. */
  pool: PostgresPool
  /** Scopes the recorded ids, e.g. the subscription name. */
  consumer: string
  /** Default `anymq_inbox` (created by the outbox migration). */
  table?: string
}

/**
 * The inbox on PostgreSQL. Per message: BEGIN, insert (consumer, id) — a duplicate finds the row
 * (or waits for a concurrent delivery of the same id to commit) and is skipped — run the handler
 * with the same client, COMMIT.
 */
export class PostgresInbox extends BaseInbox<PostgresQueryable> {
  private readonly pool: PostgresPool
  private readonly table: string

  constructor(options: PostgresInboxOptions) {
    validateOptions(options, { pool: ofType('object'), consumer: nameCheck, table: ofType('string') }, 'postgres inbox options', 'outbox')
    super(options.consumer)
    this.pool = options.pool
    this.table = resolveTableNames({ inbox: options.table ?? 'anymq_inbox' }, 'postgres inbox').inbox
  }

  protected async run<R>(messageId: string, work: (client: PostgresQueryable) => R | Promise<R>, ttlMs: number | undefined): Promise<InboxOutcome<R>> {
    const client = await this.pool.connect()
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      // A row older than ttlMs is taken over (processed again), as if it had been cleaned up.
      const inserted =
        ttlMs === undefined
          ? await client.query(`INSERT INTO ${this.table} (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [this.consumer, messageId])
          : await client.query(
              `INSERT INTO ${this.table} (consumer, message_id) VALUES ($1, $2) ON CONFLICT (consumer, message_id) DO UPDATE SET processed_at = now() WHERE ${this.table}.processed_at < now() - $3 * interval '1 millisecond'`,
              [this.consumer, messageId, ttlMs],
            )
      if (inserted.rowCount === 0) {
        await client.query('ROLLBACK')
        return { duplicate: true }
      }
      const result = await work(client)
      await client.query('COMMIT')
      return { duplicate: false, result }
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError
      })
      throw error
    } finally {
      client.release(broken)
    }
  }

  async cleanup(olderThanMs: number): Promise<number> {
    const result = await this.pool.query(`DELETE FROM ${this.table} WHERE consumer = $1 AND processed_at < now() - $2 * interval '1 millisecond'`, [
      this.consumer,
      olderThanMs,
    ])
    return result.rowCount ?? 0
  }
}

/** An inbox on PostgreSQL; see {@link PostgresInbox}. */
export function postgresInbox(options: PostgresInboxOptions): PostgresInbox {
  return new PostgresInbox(options)
}
