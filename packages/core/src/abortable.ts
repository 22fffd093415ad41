import { AbortedError } from './errors.js'

/**
 * Settles with `work`, or rejects with `AbortedError` as soon as `signal` aborts, whichever comes
 * first. The abort listener is removed on every path, so a long-lived signal collects none. The work
 * itself is not cancelled: callers that must undo it do so when it settles (see `connect`).
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string, adapter: string, options: { detail?: string } = {}): Promise<T> {
  if (!signal) return work
  if (signal.aborted) {
    work.catch(() => {})
    return Promise.reject(new AbortedError(what, { adapter, detail: options.detail }))
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError(what, { adapter, detail: options.detail }))
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/** Throws `AbortedError` if `signal` has already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string, adapter: string): void {
  if (signal?.aborted) throw new AbortedError(what, { adapter })
}
