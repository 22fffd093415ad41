import { nameCheck, ofType, validateOptions } from '@anymq/core/spi'
import type { SqliteDatabase } from './database-types.js'
import { BaseInbox, type InboxOutcome } from './inbox.js'
import { resolveTableNames } from './table-names.js'

export interface SqliteInboxOptions {
  /** A `better-sqlite3` Database. */
  database: SqliteDatabase
  consumer: string
  /** Default `anymq_inbox` (created by the outbox migration). */
  table?: string
}

/** One transaction at a time per connection: SQLite has one writer, and an async handler must not share it. */
const queues = new WeakMap<SqliteDatabase, Promise<unknown>>()

/**
 * The inbox on SQLite. Handlers of one connection run their transactions one after another (SQLite
 * has a single writer anyway); a handler may be async, and may call `outbox.add(db, …)` to write its
 * own events in the same transaction.
 */
export class SqliteInbox extends BaseInbox<SqliteDatabase> {
  private readonly database: SqliteDatabase
  private readonly table: string

  constructor(options: SqliteInboxOptions) {
    validateOptions(options, { database: ofType('object'), consumer: nameCheck, table: ofType('string') }, 'sqlite inbox options', 'outbox')
    super(options.consumer)
    this.database = options.database
    this.table = resolveTableNames({ inbox: options.table ?? 'anymq_inbox' }, 'sqlite inbox').inbox
  }

  protected run<R>(messageId: string, work: (database: SqliteDatabase) => R | Promise<R>, ttlMs: number | undefined): Promise<InboxOutcome<R>> {
    return this.serialized(async () => {
      const database = this.database
      database.exec('BEGIN IMMEDIATE')
      try {
        const now = Date.now()
        // A row older than ttlMs is taken over (processed again), as if it had been cleaned up.
        const inserted = database
          .prepare(
            `INSERT INTO ${this.table} (consumer, message_id, processed_at) VALUES (?, ?, ?) ON CONFLICT (consumer, message_id) DO UPDATE SET processed_at = excluded.processed_at WHERE ${this.table}.processed_at < ?`,
          )
          .run(this.consumer, messageId, now, ttlMs === undefined ? Number.MIN_SAFE_INTEGER : now - ttlMs)
        if (inserted.changes === 0) {
          database.exec('ROLLBACK')
          return { duplicate: true }
        }
        const result = await work(database)
        database.exec('COMMIT')
        return { duplicate: false, result }
      } catch (error) {
        if (database.inTransaction) database.exec('ROLLBACK')
        throw error
      }
    })
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const previous = queues.get(this.database) ?? Promise.resolve()
    const next = previous.then(work, work)
    queues.set(
      this.database,
      next.catch(() => {}),
    )
    return next
  }

  async cleanup(olderThanMs: number): Promise<number> {
    return this.serialized(
      async () =>
        this.database.prepare(`DELETE FROM ${this.table} WHERE consumer = ? AND processed_at < ?`).run(this.consumer, Date.now() - olderThanMs).changes,
    )
  }
}

/** An inbox on SQLite; see {@link SqliteInbox}. */
export function sqliteInbox(options: SqliteInboxOptions): SqliteInbox {
  return new SqliteInbox(options)
}
