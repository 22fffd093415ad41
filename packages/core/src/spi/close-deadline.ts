/**
 * A deadline that starts when a consumer stops: the broker calls its close waits on (settles of
 * handled messages, handing back held ones, ending its reads) race it, so that a broker that keeps the
 * connection and stops answering holds a close for `ms` at most rather than for its client's own
 * timeouts and retries. What is given up on is not cancelled; an unsettled message comes back
 * (at-least-once).
 */
export class CloseDeadline {
  private readonly passed: Promise<false>
  private pass: (() => void) | undefined
  private timer: NodeJS.Timeout | undefined
  private toldLate = false

  /** `onLate` hears, once, of the first wait given up on (what it waited for, and `ms`): for a warning. */
  constructor(
    readonly ms: number,
    private readonly onLate: (what: string, ms: number) => void = () => {},
  ) {
    this.passed = new Promise((resolve) => {
      this.pass = () => resolve(false)
    })
  }

  /** Starts counting; later calls keep the first start. The timer does not hold the process open. */
  start(): void {
    if (this.timer || !this.pass) return
    this.timer = setTimeout(this.pass, this.ms)
    this.timer.unref()
  }

  /**
   * Waits for `work` until the deadline (before `start()`, for `work` alone): `true` when it resolved
   * in time, its rejection when it rejected in time, `false` when the deadline passed first (`onLate`
   * is told the first time). The work goes on either way.
   */
  async wait(what: string, work: Promise<unknown>): Promise<boolean> {
    const settled = work.then(
      () => true,
      () => true,
    )
    if (await Promise.race([settled, this.passed])) {
      await work
      return true
    }
    if (!this.toldLate) {
      this.toldLate = true
      this.onLate(what, this.ms)
    }
    return false
  }
}
