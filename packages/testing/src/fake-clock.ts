import type { ConfigProblem, OptionCheck } from '@anymq/core/spi'
import { describeValue, validateOptions } from '@anymq/core/spi'
import FakeTimers from '@sinonjs/fake-timers'

/** A start time: epoch milliseconds or a valid `Date`. An invalid one would make every fake `Date.now()` NaN, and every delay with it. */
const startTime: OptionCheck = Object.assign(
  (value: unknown, field: string, problems: ConfigProblem[]) => {
    if (value === undefined) return
    const ms = value instanceof Date ? value.getTime() : value
    if (typeof ms !== 'number' || !Number.isFinite(ms))
      problems.push({
        field,
        message: `expected epoch milliseconds or a valid Date, got ${value instanceof Date ? 'an invalid Date' : describeValue(value, field)}`,
      })
  },
  { expected: 'epoch milliseconds or a valid Date' },
)

/** A fake clock installed with {@link installFakeClock}. */
export interface FakeClock extends Disposable {
  /** The fake time, in epoch milliseconds: what `Date.now()` returns while installed. */
  now(): number
  /**
   * Moves the time forward by `ms`, firing every timer due on the way in time order (a delayed
   * message becoming ready, a retry's backoff ending, a lease expiring), and lets the work they start
   * (deliveries, handlers, acks) run to completion before it resolves.
   */
  advance(ms: number): Promise<void>
  /** Lets pending deliveries and handlers run without moving the time. */
  settle(): Promise<void>
  /** Timers waiting to fire. */
  pending(): number
  /** Puts the real timers and `Date` back. Idempotent; also done by `using clock = installFakeClock()`. */
  uninstall(): void
}

/** Real macrotask turns `settle()` waits: enough for a delivery → handler → ack chain of the memory broker. */
const settleTurns = 20

/**
 * Replaces `setTimeout`, `setInterval` (and their `clear…`) and `Date` with a fake clock, so that the
 * delays, retry backoffs and leases of the `memory://` broker and of core run in fake time: a test of
 * "retried after 1 min, then after 2 min" or "delivered in 1 h" takes milliseconds. `setImmediate`,
 * `process.nextTick`, promises and I/O stay real, so handlers run as usual between timers.
 *
 * Install it before connecting (timers started before are real). Only for in-process brokers: a real
 * broker's own clock cannot be faked. Uninstall it in `afterEach` (or `using`).
 */
export function installFakeClock(options: { now?: number | Date } = {}): FakeClock {
  validateOptions(options, { now: startTime }, 'installFakeClock options', 'testing')
  const clock = FakeTimers.install({
    now: options.now ?? Date.now(),
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  })
  let installed = true
  const settle = async () => {
    for (let turn = 0; turn < settleTurns; turn++) await new Promise<void>((resolve) => setImmediate(resolve))
  }
  const uninstall = () => {
    if (!installed) return
    installed = false
    clock.uninstall()
  }
  return {
    now: () => clock.now,
    async advance(ms: number) {
      if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`[anymq] [testing] advance(ms) takes a whole number of milliseconds ≥ 0, got ${ms}`)
      await settle()
      // Fires due timers one by one in time order, yielding to the event loop between them, so a
      // timer's work (a delivery, a failed handler scheduling its retry) runs before the next fires.
      await clock.tickAsync(ms)
      await settle()
    },
    settle,
    pending: () => clock.countTimers(),
    uninstall,
    [Symbol.dispose]: uninstall,
  }
}
