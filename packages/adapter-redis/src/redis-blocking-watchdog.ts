/** How far past its BLOCK a blocking read may run before its socket counts as stalled. */
export const blockingGraceMs = 5000

/** One blocking read under way, as the watchdog sees it. */
export interface BlockingRead<Subject> {
  /** What the read was sent on (the driver's client). */
  readonly subject: Subject
  readonly startedAt: number
  readonly blockMs: number
  /** The watchdog gave up on it: its failure is an empty read, not an error. */
  stalled: boolean
}

/**
 * Bounds a connection's blocking reads (one at a time) on the client side: a read that outlives its BLOCK by
 * {@link blockingGraceMs} was stalled on a dead socket that never closed (a silent network failure), and
 * `onStalled` replaces the socket. One interval per connection looks at the read under way once a second:
 * no timer per read (a timer per read cost ~5 % of a consumer's CPU profile).
 */
export class BlockingReadWatchdog<Subject> {
  private reading: BlockingRead<Subject> | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(private readonly onStalled: (read: BlockingRead<Subject>, why: Error) => void) {}

  begin(subject: Subject, blockMs: number): BlockingRead<Subject> {
    const read: BlockingRead<Subject> = { subject, startedAt: Date.now(), blockMs, stalled: false }
    this.reading = read
    if (!this.stopped) this.timer ??= setInterval(() => this.check(), 1000).unref()
    return read
  }

  end(read: BlockingRead<Subject>): void {
    if (this.reading === read) this.reading = undefined
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
    this.timer = undefined
    this.reading = undefined
  }

  private check(): void {
    const read = this.reading
    if (read === undefined || Date.now() - read.startedAt <= read.blockMs + blockingGraceMs) return
    this.reading = undefined
    read.stalled = true
    this.onStalled(read, new Error(`a blocking read got no answer ${blockingGraceMs} ms after its BLOCK of ${read.blockMs} ms ran out`))
  }
}
