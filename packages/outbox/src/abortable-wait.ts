/**
 * Resolves after `ms`, at once when `signal` aborts, or when the waker it adds to `wakers` is called
 * (a store's "new rows" notification) — whichever comes first. Leaves no timer or listener behind.
 */
export function abortableWait(ms: number, signal: AbortSignal, wakers?: Set<() => void>): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      wakers?.delete(done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    wakers?.add(done)
  })
}
