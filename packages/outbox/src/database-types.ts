/**
 * The few methods anymq's outbox uses from each database client, described structurally so that the
 * package imports none of them: install only the client you use (`pg`, `better-sqlite3`, `ioredis`).
 */

/** A `pg` Client or PoolClient (or anything with the same `query`), inside the caller's transaction. */
export interface PostgresQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>
}

/** A `pg` PoolClient: a connection checked out of a pool. */
export interface PostgresPoolClient extends PostgresQueryable {
  release(error?: Error | boolean): void
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  removeListener(event: string, listener: (...args: any[]) => void): unknown
}

/** A `pg` Pool. */
export interface PostgresPool extends PostgresQueryable {
  connect(): Promise<PostgresPoolClient>
}

/** A `better-sqlite3` statement. */
export interface SqliteStatement {
  run(...parameters: unknown[]): { changes: number; lastInsertRowid: number | bigint }
  get(...parameters: unknown[]): unknown
  all(...parameters: unknown[]): unknown[]
}

/** A `better-sqlite3` Database. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement
  exec(sql: string): unknown
  readonly inTransaction: boolean
  readonly open: boolean
}

/** An `ioredis` pipeline from `redis.multi()`. */
export interface RedisMulti {
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number): unknown
  exec(): Promise<[Error | null, unknown][] | null>
}

/** An `ioredis` client. */
export interface RedisClient {
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number, nx: 'NX'): Promise<unknown>
  get(key: string): Promise<string | null>
  eval(script: string, keyCount: number, ...arguments_: (string | number)[]): Promise<unknown>
  multi(): RedisMulti
}
