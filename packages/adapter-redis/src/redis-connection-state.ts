import type { ConnectionStateChange } from '@anymq/core/spi'
import type { Redis } from 'ioredis'

/**
 * Tells core how the connection's command client stands: `reconnecting` on each of ioredis' reconnect
 * attempts, with the error that cut it, and `connected` once it is ready again. Consumers' blocking
 * clients reconnect on their own and report their outages through `onError`.
 */
export function reportClientState(client: Redis, report: ((change: ConnectionStateChange) => void) | undefined): void {
  if (!report) return
  let lastError: Error | undefined
  client.on('error', (error: Error) => {
    lastError = error
  })
  client.on('reconnecting', () => {
    report({ state: 'reconnecting', cause: lastError ?? new Error('the connection to redis closed') })
    lastError = undefined
  })
  client.on('ready', () => report({ state: 'connected' }))
  client.on('end', () => report({ state: 'closed', cause: lastError }))
}
