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
