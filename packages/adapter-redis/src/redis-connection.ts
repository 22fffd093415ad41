import type { RedisSettings } from './redis-config.js'
import type { RedisConnection } from './redis-driver.js'

/** `host:port` for messages; never the password. */
export function describeServer(settings: RedisSettings): string {
  const user = settings.username === undefined ? '' : ` as user '${settings.username}'`
  if (settings.sentinels) {
    const sentinels = settings.sentinels.map(({ host, port }) => `${host}:${port}`).join(',')
    return `redis primary '${settings.masterName}' via sentinels ${sentinels}/${settings.db}${user}`
  }
  return `redis ${settings.host}:${settings.port}/${settings.db}${user}`
}

/** Resolves when the connection is ready (again), after `timeoutMs`, or when `signal` aborts, whichever is first. */
export function whenReady(connection: RedisConnection, timeoutMs: number, signal: AbortSignal): Promise<void> {
  if (connection.ready || signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      removeListener()
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, timeoutMs)
    const removeListener = connection.onReady(done)
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
