/**
 * A deadline that starts when a consumer stops: the broker calls its close waits on (settles of
 * handled messages, handing back held ones) race it, so that a broker that keeps the connection and
 * stops answering holds a close for `ms` at most rather than for its client's own timeouts and
 * retries. What is given up on is not cancelled; an unsettled message comes back (at-least-once).
 */
export class CloseDeadline {
  private readonly passed: Promise<false>
  private pass: (() => void) | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(readonly ms: number) {
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
   * Whether `work` settled (resolved or rejected) before the deadline passed; before `start()`, it
   * waits for `work` alone. The rejection is the caller's: await `work` itself when this says `true`.
   */
  settles(work: Promise<unknown>): Promise<boolean> {
    return Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      this.passed,
    ])
  }
}
