/**
 * The broker's timers (delays, retries, leases). While no connection is open they are unref'd, so a
 * program that closed its connections can exit even if a retry is still scheduled in memory.
 */
export class TimerSet {
  private readonly timers = new Set<NodeJS.Timeout>()
  private referenced = true

  add(callback: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      callback()
    }, ms)
    if (!this.referenced) timer.unref()
    this.timers.add(timer)
    return timer
  }

  /**
   * `callback` once `ms` have passed by the wall clock (`Date.now()`), never sooner. A plain timer
   * counts on a monotonic millisecond clock of its own, so by `Date.now()` a delayed message came up
   * to 1 ms early (2 of 5 runs of 8 delayed sends in an outside check).
   */
  addDue(callback: () => void, ms: number): DueTimer {
    const due = Date.now() + ms
    const handle: DueTimer = { timeout: undefined }
    const arm = (wait: number) => {
      handle.timeout = this.add(() => {
        const left = due - Date.now()
        if (left > 0) arm(left)
        else callback()
      }, wait)
    }
    arm(ms)
    return handle
  }

  clear(timer: NodeJS.Timeout | undefined): void {
    if (timer === undefined) return
    clearTimeout(timer)
    this.timers.delete(timer)
  }

  setReferenced(referenced: boolean): void {
    if (referenced === this.referenced) return
    this.referenced = referenced
    for (const timer of this.timers) {
      if (referenced) timer.ref()
      else timer.unref()
    }
  }
}

/** A timer of {@link TimerSet.addDue}: its current timeout changes when it has to wait longer. */
export interface DueTimer {
  timeout: NodeJS.Timeout | undefined
}
