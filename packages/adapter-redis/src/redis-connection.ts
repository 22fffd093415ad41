import type { Logger } from '@anymq/core/spi'
import { Redis } from 'ioredis'
import { type ConnectionRole, clientOptions, type RedisSettings } from './redis-config.js'
import { routeIoredisWarnings } from './redis-console-warnings.js'
import { connectionError, describeError } from './redis-errors.js'
import { type ScriptedRedis, withScripts } from './redis-scripts.js'

/** `host:port` for messages; never the password. */
export function describeServer(settings: RedisSettings): string {
  const user = settings.username === undefined ? '' : ` as user '${settings.username}'`
  if (settings.sentinels) {
    const sentinels = settings.sentinels.map(({ host, port }) => `${host}:${port}`).join(',')
    return `redis primary '${settings.masterName}' via sentinels ${sentinels}/${settings.db}${user}`
  }
  return `redis ${settings.host}:${settings.port}/${settings.db}${user}`
}

/**
 * Opens one ioredis connection and resolves once Redis answered (authenticated, database selected).
 * Rejects with a `ConnectionError` that carries the reason Redis gave (refused, wrong password…),
 * redacted. Afterwards every 'error' event is caught — an unhandled one would crash the process — and
 * reported through `report` (default: a warning on the logger), each different error once per outage.
 */
export async function openClient(settings: RedisSettings, role: ConnectionRole, logger: Logger, report?: (error: Error) => void): Promise<ScriptedRedis> {
  const client = withScripts(new Redis(clientOptions(settings, role)))
  let lastError: unknown
  // While reconnecting, ioredis emits an error per attempt; each different one is reported once.
  const reported = new Set<string>()
  client.on('error', (error: unknown) => {
    lastError = error
    const text = describeError(error)
    if (client.status === 'end' || reported.has(text)) return
    reported.add(text)
    const wrapped = connectionError(`${describeServer(settings)} (${role} connection), reconnecting`, error)
    if (report) report(wrapped)
    else logger.warn(wrapped.message)
  })
  // ioredis' own warnings are written during the handshake of each (re)connection.
  let releaseWarnings: (() => void) | undefined
  const handshakeOver = () => {
    releaseWarnings?.()
    releaseWarnings = undefined
  }
  client.on('connect', () => {
    handshakeOver()
    releaseWarnings = routeIoredisWarnings(logger)
  })
  client.on('close', handshakeOver)
  client.on('end', handshakeOver)
  client.on('ready', () => {
    handshakeOver()
    reported.clear()
  })
  try {
    await client.connect()
  } catch (error) {
    client.disconnect()
    handshakeOver()
    throw connectionError(`cannot connect to ${describeServer(settings)}`, lastError ?? error)
  }
  return client
}

/** Resolves when the client is ready (again), after `timeoutMs`, or when `signal` aborts, whichever is first. */
export function whenReady(client: Redis, timeoutMs: number, signal: AbortSignal): Promise<void> {
  if (client.status === 'ready' || signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      client.off('ready', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, timeoutMs)
    client.on('ready', done)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * A blocking read that came back empty long after its BLOCK ran out was ended by ioredis' own
 * `blockingTimeout`, not by Redis: the socket is likely dead without having closed (a silent network
 * failure). Reconnecting gets a fresh one instead of reading on it forever.
 */
export function reconnectIfStalled(client: Redis, startedAt: number, blockMs: number): void {
  if (Date.now() - startedAt > blockMs + 2000 && client.status === 'ready') client.disconnect(true)
}

/** Closes a connection politely (QUIT), or drops it when Redis does not answer soon. */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end') return
  if (client.status !== 'ready') {
    client.disconnect()
    return
  }
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    client.quit().catch(() => client.disconnect()),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        client.disconnect()
        resolve()
      }, 2000)
    }),
  ])
  clearTimeout(timer)
}

export { describeError }
