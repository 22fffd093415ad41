import type { Logger } from '@anymq/core/spi'
import type { ConnectionRole, RedisSettings } from './redis-config.js'

/**
 * The seam between the adapter's semantics and a Redis client library. Everything ioredis-specific
 * lives in `ioredis-driver.ts`, everything node-redis-specific in `node-redis-driver.ts`; the adapter
 * speaks plain Redis commands through {@link RedisConnection} and nothing else. Replies are RESP2
 * shapes on both drivers: arrays, integers as numbers, `null`, and bulk strings as strings, or as
 * Buffers when asked for `binary`.
 */

/**
 * How long a command sent while the command connection reconnects (or sent on a socket that went silent)
 * waits for a connection that answers, before it fails with a retryable `ConnectionError`.
 */
export const offlineWaitMs = 20_000

/** One argument of a command: Buffers go to Redis as they are (binary-safe), numbers as their decimal text. */
export type RedisArgument = string | Buffer | number

export interface CallOptions {
  /** Bulk strings in the reply as Buffers (message bodies) instead of strings. */
  binary?: boolean
  /**
   * A blocking read (`XREADGROUP … BLOCK ms`): the driver also bounds it on the client side, a while
   * after `blockMs`. A read that ran out there was stalled on a dead socket: the driver resolves `null`
   * (as Redis does for an empty read) and reconnects.
   */
  blockMs?: number
}

/** One connection to Redis, reconnecting by itself after a loss (to the current primary through Sentinel). */
export interface RedisConnection {
  /** True while commands can be sent now (connected, authenticated, database selected). */
  readonly ready: boolean
  /**
   * Sends one command. On the `commands` role a command sent while reconnecting waits for the new
   * connection; on the other roles (`consumer`, `inbox`, `replies`) it fails at once, and an interrupted
   * command is never resent (a stale blocking read after a reconnect can hang).
   */
  call(args: readonly RedisArgument[], options?: CallOptions): Promise<unknown>
  /** Runs commands in one MULTI/EXEC; rejects with the first failed command's error. */
  transaction(commands: ReadonlyArray<readonly RedisArgument[]>): Promise<unknown[]>
  /**
   * A batch of XADDs into one stream is cheaper as one script (`anymqAppend`, all or none as a MULTI) than
   * as a {@link transaction}: on ioredis, whose MULTI builds a pipeline and a promise per queued command.
   * On node-redis a MULTI costs the client what a pipeline does, and Redis less than the script.
   */
  readonly batchesAsScript: boolean
  /**
   * Puts the connection in subscriber mode (open it with the `replies` role): `listener` gets the
   * payload of each message published on `channel`, as bytes; `sharded`: a shard channel (`SSUBSCRIBE`,
   * for `SPUBLISH`), else a plain one (`SUBSCRIBE`, for `PUBLISH`). Resolves once Redis confirmed the
   * subscription; the connection subscribes again by itself after each reconnect (until then, a
   * publish on the channel reaches nobody and says so: it returns 0).
   */
  subscribe(channel: string, sharded: boolean, listener: (payload: Buffer) => void): Promise<void>
  /** Calls `listener` each time the connection becomes ready again after a loss; returns its removal. */
  onReady(listener: () => void): () => void
  /** Closes politely (QUIT), or drops the connection when Redis does not answer within 2 s. Idempotent. */
  close(): Promise<void>
  /** Drops the connection at once, as a crashed process would. */
  terminate(): void
}

/** Opens connections of one client library. */
export interface RedisDriver {
  readonly name: RedisDriverName
  /**
   * Opens one connection and resolves once Redis answered (authenticated, database selected). Rejects
   * with a `ConnectionError` that carries the reason Redis gave, redacted, or, when Redis did not answer
   * within `connectTimeoutMs`, a retryable one that says so; a failed open leaves no socket behind.
   * Afterwards every error of the connection is reported through `report` (default: a warning on the
   * logger), each different error once per outage. `signal` (the caller's connect signal) drops the
   * socket at once and rejects with `AbortedError` while opening; it is not heeded afterwards.
   */
  open(settings: RedisSettings, role: ConnectionRole, logger: Logger, report?: (error: Error) => void, signal?: AbortSignal): Promise<RedisConnection>
}

export type RedisDriverName = 'node-redis' | 'ioredis'
export const driverNames: readonly RedisDriverName[] = ['node-redis', 'ioredis']
