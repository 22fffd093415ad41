import type { ConnectionRole, RedisSettings } from './redis-config.js'

/** How often the watchdog looks at a connection: the bound is met within this much. */
const checkEveryMs = 1000

/**
 * How long the connection of `role` may owe answers without getting any before its socket is dropped;
 * 0 = never. Only the command connection: the blocking ones have their reads bounded on their own
 * ({@link BlockingReadWatchdog}). A `WAIT` for replicas is owed for up to `waitTimeoutMs` on top.
 */
export function answerTimeoutFor(settings: RedisSettings, role: ConnectionRole): number {
  if (role !== 'commands' || settings.answerTimeoutMs === 0) return 0
  return settings.answerTimeoutMs + (settings.waitReplicas > 0 ? settings.waitTimeoutMs : 0)
}

/**
 * Bounds how long a connection may owe Redis' answers without getting any. A server that stops answering
 * but keeps its sockets (a frozen process or VM, a long pause, a network that drops packets) never makes
 * a socket fail: without this, what was sent on it waited for as long as that lasted, forever for a
 * stopped process whose kernel still acknowledges the bytes. One interval per connection samples a
 * progress mark the driver keeps anyway: no work per command.
 */
export class AnswerWatchdog {
  private readonly timer: NodeJS.Timeout | undefined
  private seen: unknown
  private seenSince = 0

  /**
   * `progress`: `undefined` while nothing is owed, otherwise a mark that changes whenever an answer
   * comes (a count of answers, the oldest command waiting). `onStalled` drops the socket.
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly progress: () => unknown,
    private readonly onStalled: (why: Error) => void,
  ) {
    if (timeoutMs > 0) this.timer = setInterval(() => this.check(), Math.min(checkEveryMs, timeoutMs)).unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private check(): void {
    const mark = this.progress()
    const now = Date.now()
    if (mark === undefined || mark !== this.seen) {
      this.seen = mark
      this.seenSince = now
      return
    }
    if (now - this.seenSince < this.timeoutMs) return
    this.seen = undefined
    // "Connection is closed": what was owed counts as interrupted by a lost connection (see isConnectionProblem).
    this.onStalled(new Error(`Connection is closed: Redis answered nothing on it for ${this.timeoutMs} ms while commands waited (?answerTimeoutMs)`))
  }
}
