import { createRequire } from 'node:module'

/** What of kafkajs' internal `RequestQueue` the fix reads: nothing else of it is touched. */
interface RequestQueueShape {
  pending: unknown[]
  throttledUntil: number
  scheduleCheckPendingRequests(): void
}

let installed = false

/**
 * kafkajs 2.2.4 re-arms its request queue's check timer even when no request waits and no throttle is
 * on: the delay is then `-1 - Date.now()`, which Node turns into 1 ms. Every broker connection so runs a
 * 1 ms timer for as long as it is open (an idle anymq consumer spent ~45 ms of CPU per second on it,
 * against ~8 on @platformatic/kafka), and Node 23 and later print a `TimeoutNegativeWarning` to the
 * user's stderr (kafkajs issues #1704 and #1751, fixed in no release). With nothing waiting there is
 * nothing to check: `push` sends a new request at once or schedules the check itself. Installed once,
 * on the class, when the kafkajs driver loads; a kafkajs whose queue no longer has this shape is left alone.
 */
export function quietIdleRequestQueues(): void {
  if (installed) return
  installed = true
  let RequestQueue: { prototype: RequestQueueShape } | undefined
  try {
    RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js')
  } catch {
    return
  }
  const prototype = RequestQueue?.prototype
  const schedule = prototype?.scheduleCheckPendingRequests
  if (!prototype || typeof schedule !== 'function') return
  prototype.scheduleCheckPendingRequests = function scheduleWhenSomethingWaits(this: RequestQueueShape) {
    if (Array.isArray(this.pending) && this.pending.length === 0 && !(this.throttledUntil > Date.now())) return
    schedule.call(this)
  }
}
