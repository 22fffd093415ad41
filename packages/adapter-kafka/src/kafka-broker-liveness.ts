import type { ConnectionStateTracker } from '@anymq/core/spi'

/** When a liveness check runs and how long it waits (see {@link BrokerLiveness}). */
export interface LivenessTiming {
  /** How often a broker is asked, with nothing else going on. */
  intervalMs: number
  /**
   * How long one question may go unanswered before it counts as failed. A broker that is shutting
   * down can keep a request unanswered on a connection it has not closed yet; the client then waits
   * its request timeout (30 s) and retries, and the check outlived a whole restart without reporting it.
   */
  timeoutMs: number
  /**
   * After a connection dropped, how long the question may go unanswered before that counts as a loss,
   * while the question still waits. A broker that restarts within `timeoutMs` left no trace otherwise
   * (CI, Kafka 3.9.2: health never left `connected`); a broker that merely closed an idle connection
   * answers a new one in milliseconds.
   */
  droppedSuspectMs: number
}

/** Within one loss, the shortest time between two reports of failed dials. */
const dialFailureReportMs = 1_000

export const defaultLivenessTiming: LivenessTiming = { intervalMs: 5_000, timeoutMs: 5_000, droppedSuspectMs: 1_000 }

/**
 * Whether a Kafka broker answers, for `mq.health()`. A Kafka client has no one connection and hides
 * an outage between two operations behind its retries, so the driver feeds this what the client tells
 * (dials that failed or succeeded, connections that dropped) and `ask` (one forced metadata request)
 * checks periodically and on every drop. Reports `reconnecting` while no broker answers and
 * `connected` once one does.
 */
export class BrokerLiveness {
  private timer: ReturnType<typeof setInterval> | undefined
  private checking = false
  /** Counts finished checks: a suspicion armed during one check lapses when that check ends. */
  private checksDone = 0
  /** Counts successful dials: a check that failed after one of them is stale. */
  private dials = 0
  private stopped = false
  /** When the last failed dial was reported, within the loss under way. */
  private lastDialFailure: number | undefined

  constructor(
    private readonly ask: () => Promise<unknown>,
    private readonly state: ConnectionStateTracker,
    private readonly timing: LivenessTiming = defaultLivenessTiming,
  ) {}

  /** Starts the periodic check; the timer keeps no process alive. */
  start(): void {
    if (this.stopped || this.timer !== undefined) return
    this.timer = setInterval(() => void this.check(), this.timing.intervalMs)
    this.timer.unref?.()
  }

  /** Ends every check and report; for close. */
  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /**
   * The client could not dial a broker: a loss. The clients retry a dial every 200 ms, each with its
   * own report; within one loss, one a second is news (`reconnects` counted 40–50 for one restart).
   */
  dialFailed(broker: string): void {
    if (this.stopped) return
    const now = Date.now()
    if (this.lastDialFailure !== undefined && now - this.lastDialFailure < dialFailureReportMs) return
    this.lastDialFailure = now
    this.state.failed(new Error(`cannot connect to kafka broker ${broker}`), true)
  }

  /** The client dialled a broker: the end of a loss. */
  dialled(): void {
    if (this.stopped) return
    this.dials++
    this.lastDialFailure = undefined
    this.state.working()
  }

  /** A connection dropped; brokers also close idle ones, so it is checked before it counts. */
  dropped(): void {
    if (this.stopped) return
    this.suspect()
    void this.check()
  }

  /** Asks until a broker answers, reporting a loss on each failure and its end on the answer. */
  private async check(): Promise<void> {
    if (this.checking || this.stopped) return
    this.checking = true
    try {
      for (let attempt = 0; !this.stopped; attempt++) {
        const dials = this.dials
        try {
          await withTimeout(this.ask(), this.timing.timeoutMs)
          if (this.stopped) return
          this.lastDialFailure = undefined
          this.state.working()
          return
        } catch (error) {
          // A question stuck on a connection the broker dropped while a new one was dialled: ask again on it.
          if (this.dials !== dials) continue
          if (this.stopped) return
          this.state.failed(error, true)
          await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 250 * 2 ** attempt)))
        }
      }
    } finally {
      this.checking = false
      this.checksDone++
    }
  }

  /** No answer to the check under way (or the one just started) within `droppedSuspectMs` is a loss now. */
  private suspect(): void {
    const done = this.checksDone
    const dials = this.dials
    const afterMs = this.timing.droppedSuspectMs
    const timer = setTimeout(() => {
      if (this.stopped || this.checksDone !== done || this.dials !== dials) return
      this.state.failed(new Error(`a kafka connection dropped and no broker answered within ${afterMs} ms`), true)
    }, afterMs)
    timer.unref?.()
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no kafka broker answered a metadata request within ${ms} ms`)), ms)
  })
  // The abandoned request may still fail later: nobody waits for it.
  promise.catch(() => {})
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
