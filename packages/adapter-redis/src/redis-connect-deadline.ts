import { AbortedError } from '@anymq/core/spi'
import type { RedisSettings } from './redis-config.js'

/**
 * Raised when a server took the TCP connection but did not answer within `connectTimeoutMs`. Both
 * client libraries bound only the TCP (and TLS) handshake with their own connect timeout; a server
 * that accepts and then stays silent (a hung Redis, a proxy with no backend, TLS spoken to Redis' plain
 * port, where Redis waits for a line) would leave `connect` pending forever. An outage, so retryable.
 */
export class NoAnswerError extends Error {
  constructor(settings: RedisSettings) {
    super(
      `the server did not answer within connectTimeoutMs (${settings.connectTimeoutMs} ms): it took the connection and sent nothing ` +
        "(a hung server, or TLS spoken to Redis' plain port, where Redis waits for a line)",
    )
    this.name = 'NoAnswerError'
  }
}

/**
 * Resolves with `connecting` (connected, authenticated, and an answer from the server) when it settles
 * within `settings.connectTimeoutMs`; otherwise calls `abandon` (which must close the socket, so that
 * nothing keeps the process alive) and rejects with {@link NoAnswerError}. When `signal` (the caller's
 * connect signal) fires first, it abandons at once and rejects with `AbortedError`.
 */
export function withinConnectTimeout<T>(settings: RedisSettings, connecting: Promise<T>, abandon: () => void, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const silence = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandon()
      reject(new NoAnswerError(settings))
    }, settings.connectTimeoutMs)
    onAbort = () => {
      abandon()
      reject(new AbortedError('connect', { adapter: 'redis' }))
    }
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
  })
  // Abandoned, the attempt still rejects later (its client destroyed): that rejection is not the caller's.
  connecting.catch(() => {})
  return Promise.race([connecting, silence]).finally(() => {
    clearTimeout(timer)
    if (onAbort) signal?.removeEventListener('abort', onAbort)
  })
}
