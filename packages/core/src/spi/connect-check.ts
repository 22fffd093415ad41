import { ConnectionError } from '../errors.js'

/** What {@link checkWithin} needs to bound a connect-time check. */
export interface ConnectCheckOptions {
  /** The adapter's name, for the error. */
  adapter: string
  /** What is being connected to, as the error says it: `SQS at http://…`, `Kinesis`. */
  target: string
  /** How long the broker has to answer. */
  ms: number
  /** The caller's connect signal: it cuts the check as well. */
  signal?: AbortSignal | undefined
  /** Runs once, when the bound or the caller's signal fires first: drop the clients' sockets at once. */
  onAbort: () => void
}

/**
 * Runs `check` (one authenticated request that proves endpoint and credentials) with a signal that
 * fires after `options.ms` or with the caller's signal, whichever comes first, and calls
 * `options.onAbort` at that moment, so a silent endpoint is given up on then, not after the client's
 * request timeouts and retries. Guarantees: when the bound fired (and the caller's signal did not),
 * the check rejects with a retryable `ConnectionError` "connecting to <target> failed: no answer
 * within <ms> ms", the check's own error as its cause; otherwise the check's own outcome stands.
 * `onAbort` runs at most once and is not called once the check settled.
 */
export async function checkWithin<T>(options: ConnectCheckOptions, check: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { signal, ms } = options
  const deadline = AbortSignal.timeout(ms)
  const either = signal ? AbortSignal.any([signal, deadline]) : deadline
  either.addEventListener('abort', options.onAbort, { once: true })
  try {
    return await check(either)
  } catch (error) {
    if (deadline.aborted && !signal?.aborted) {
      throw new ConnectionError(`connecting to ${options.target} failed: no answer within ${ms} ms`, {
        adapter: options.adapter,
        cause: error,
        retryable: true,
      })
    }
    throw error
  } finally {
    either.removeEventListener('abort', options.onAbort)
  }
}
