import type { ConnectionStateChange, Logger } from '@anymq/core/spi'
import type { RedisConnection } from './redis-driver.js'

/**
 * Tells core how the connection's command client stands, on either driver: `reconnecting` with the
 * error that cut it (each different error once per outage, as the driver reports them; still logged
 * as a warning), and `connected` each time it is ready again. Consumers' blocking connections
 * reconnect on their own and report their outages through `onError`.
 */
export function connectionStateReporter(
  report: ((change: ConnectionStateChange) => void) | undefined,
  logger: Logger,
): { onError: ((error: Error) => void) | undefined; watch: (connection: RedisConnection) => void } {
  if (!report) return { onError: undefined, watch: () => {} }
  return {
    onError: (error) => {
      logger.warn(error.message)
      report({ state: 'reconnecting', cause: error })
    },
    watch: (connection) => {
      connection.onReady(() => report({ state: 'connected' }))
    },
  }
}
