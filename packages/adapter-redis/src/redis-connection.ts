import type { Logger } from '@anymq/core/spi'
import { Redis } from 'ioredis'
import { type ConnectionRole, clientOptions, type RedisSettings } from './redis-config.js'
import { connectionError, describeError } from './redis-errors.js'
import { type ScriptedRedis, withScripts } from './redis-scripts.js'

/** `host:port` for messages; never the password. */
export function describeServer(settings: RedisSettings): string {
  const user = settings.username === undefined ? '' : ` as user '${settings.username}'`
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
  client.on('ready', () => {
    reported.clear()
  })
  try {
    await client.connect()
  } catch (error) {
    client.disconnect()
    throw connectionError(`cannot connect to ${describeServer(settings)}`, lastError ?? error)
  }
  return client
}

/** Resolves when the client is ready (again), or after `timeoutMs`, or when `cancelled` resolves. */
export function whenReady(client: Redis, timeoutMs: number, cancelled: Promise<void>): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      client.off('ready', done)
      resolve()
    }
    const timer = setTimeout(done, timeoutMs)
    client.on('ready', done)
    void cancelled.then(done)
  })
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
