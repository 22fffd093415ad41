import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brokerUrl } from '@anymq/conformance'
import Database from 'better-sqlite3'
import pg from 'pg'
import { type Outbox, type PostgresQueryable, postgresOutbox, type SqliteDatabase, sqliteOutbox, type TableNames } from '../src/index.js'

export const postgresUrl = brokerUrl('ANYMQ_POSTGRES_URL')
export const redisUrl = brokerUrl('ANYMQ_REDIS_URL')
export const rabbitmqUrl = brokerUrl('ANYMQ_RABBITMQ_URL')

type Broker = 'postgres' | 'redis' | 'rabbitmq'
const brokerUrls: Record<Broker, [variable: string, url: string | undefined]> = {
  postgres: ['ANYMQ_POSTGRES_URL', postgresUrl],
  redis: ['ANYMQ_REDIS_URL', redisUrl],
  rabbitmq: ['ANYMQ_RABBITMQ_URL', rabbitmqUrl],
}

/** Why a case that needs these brokers skips, for the end of its title; '' when every URL is set. */
export function unsetReason(...needs: Broker[]): string {
  const missing = needs.filter((broker) => brokerUrls[broker][1] === undefined)
  if (missing.length === 0) return ''
  return ` (${missing.map((broker) => brokerUrls[broker][0]).join(', ')} unset: run scripts/brokers.sh up ${missing.join(' ')})`
}

export function uniqueTables(): TableNames {
  const prefix = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
  return { outbox: `${prefix}_outbox`, deadLetters: `${prefix}_dead`, inbox: `${prefix}_inbox` }
}

export function uniqueName(prefix: string): string {
  return `outbox-${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** One database with the outbox tables, as a test uses it: the application's side and relays' sides. */
export interface StoreFixture<Tx> {
  readonly name: 'postgres' | 'sqlite'
  readonly tables: TableNames
  /** The application's outbox (add). */
  readonly outbox: Outbox<Tx>
  /** A fresh outbox on its own connection, for a relay (several relays = several calls). */
  relayOutbox(options?: { leaseMs?: number }): Outbox<Tx>
  /** Runs `work` in a transaction and commits. */
  commit<R>(work: (tx: Tx) => Promise<R> | R): Promise<R>
  /** Runs `work` in a transaction and rolls it back (also when `work` throws; the error is rethrown). */
  rollback(work: (tx: Tx) => Promise<unknown> | unknown): Promise<void>
  /** Runs one SQL query on the application's connection. */
  query(sql: string, parameters?: unknown[]): Promise<Record<string, unknown>[]>
  /** Rows in a table. */
  count(table: string, where?: string): Promise<number>
  /** The connection string a relay process uses. */
  readonly databaseUrl: string
  close(): Promise<void>
}

export async function postgresFixture(url = postgresUrl): Promise<StoreFixture<PostgresQueryable>> {
  const tables = uniqueTables()
  const pools: pg.Pool[] = []
  const newPool = (max = 10) => {
    const pool = new pg.Pool({ connectionString: url, max })
    pool.on('error', () => {})
    pools.push(pool)
    return pool
  }
  const pool = newPool()
  const outbox = postgresOutbox({ pool, tables })
  await outbox.migrate()
  const query = async (sql: string, parameters: unknown[] = []) => (await pool.query(sql, parameters)).rows as Record<string, unknown>[]
  return {
    name: 'postgres',
    tables,
    outbox,
    databaseUrl: url!,
    relayOutbox: () => postgresOutbox({ pool: newPool(6), tables }),
    async commit(work) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const result = await work(client)
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK')
        throw error
      } finally {
        client.release()
      }
    },
    async rollback(work) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        await work(client)
      } finally {
        await client.query('ROLLBACK')
        client.release()
      }
    },
    query,
    async count(table, where = 'true') {
      const rows = await query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`)
      return Number(rows[0]?.n)
    },
    async close() {
      await pool.query(`DROP TABLE IF EXISTS ${tables.outbox}, ${tables.deadLetters}, ${tables.inbox} CASCADE`).catch(() => {})
      await pool.query(`DROP FUNCTION IF EXISTS ${tables.outbox}_notify() CASCADE`).catch(() => {})
      await Promise.all(pools.map((each) => each.end().catch(() => {})))
    },
  }
}

export function openSqlite(file: string): Database.Database {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 10000')
  return db
}

export async function sqliteFixture(): Promise<StoreFixture<SqliteDatabase>> {
  const tables = uniqueTables()
  const directory = mkdtempSync(join(tmpdir(), 'anymq-outbox-'))
  const file = join(directory, 'app.db')
  const connections: Database.Database[] = []
  const open = () => {
    const db = openSqlite(file)
    connections.push(db)
    return db
  }
  const db = open()
  const outbox = sqliteOutbox({ database: db, tables })
  await outbox.migrate()
  // One transaction at a time on the application's connection, as an application would arrange.
  let queue: Promise<unknown> = Promise.resolve()
  const serialized = <R>(work: () => Promise<R>): Promise<R> => {
    const next = queue.then(work, work)
    queue = next.catch(() => {})
    return next
  }
  const query = async (sql: string, parameters: unknown[] = []) => {
    const statement = db.prepare(sql)
    if (statement.reader) return statement.all(...parameters) as Record<string, unknown>[]
    statement.run(...parameters)
    return []
  }
  return {
    name: 'sqlite',
    tables,
    outbox,
    databaseUrl: `sqlite:${file}`,
    relayOutbox: (options = {}) => sqliteOutbox({ database: open(), tables, ...options }),
    commit: (work) =>
      serialized(async () => {
        db.exec('BEGIN IMMEDIATE')
        try {
          const result = await work(db)
          db.exec('COMMIT')
          return result
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK')
          throw error
        }
      }),
    rollback: (work) =>
      serialized(async () => {
        db.exec('BEGIN IMMEDIATE')
        try {
          await work(db)
        } finally {
          if (db.inTransaction) db.exec('ROLLBACK')
        }
      }),
    query,
    async count(table, where = '1') {
      const row = db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }
      return Number(row.n)
    },
    async close() {
      for (const connection of connections) if (connection.open) connection.close()
      rmSync(directory, { recursive: true, force: true })
    },
  }
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let wait = 10
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, wait))
    wait = Math.min(250, wait * 2)
  }
}

/** The stores a test runs on: SQLite always, Postgres when ANYMQ_POSTGRES_URL is set. */
export const stores: { name: 'postgres' | 'sqlite'; create: () => Promise<StoreFixture<any>>; available: boolean; needs: Broker[] }[] = [
  { name: 'postgres', create: () => postgresFixture(), available: postgresUrl !== undefined, needs: ['postgres'] },
  { name: 'sqlite', create: sqliteFixture, available: true, needs: [] },
]
