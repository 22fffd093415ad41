import { integer, type OptionShape, ofType, required, validateOptions } from '@anymq/core/spi'

/** `until(...)` gave up: names what it waited for and what it saw. Code `ERR_UNTIL_TIMEOUT`. */
export class UntilTimeoutError extends Error {
  readonly code = 'ERR_UNTIL_TIMEOUT'
  constructor(what: string, timeoutMs: number, seen: number) {
    super(`[anymq] [testing] waited ${timeoutMs} ms for ${what}; ${seen} handled so far`)
    this.name = 'UntilTimeoutError'
  }
}

/** Options of the waits of {@link Until}. */
export interface UntilOptions {
  /** Reject with `UntilTimeoutError` after this long. Default 5 000 ms. */
  timeoutMs?: number
}

/** Waits on what the consumers of one queue (or `topic/subscription`) have handled. */
export interface Until {
  /** Resolves once `count` deliveries were handled and settled (acked, retried or given back), so a handler's effects are visible. */
  received(count: number, options?: UntilOptions): Promise<void>
  /** Resolves with the body of the first handled delivery whose body matches, waiting for it if need be. */
  matching<T = unknown>(predicate: (body: T) => boolean, options?: UntilOptions): Promise<T>
}

/** What a source has handled so far, and who waits for more. */
export class HandledLog {
  readonly bodies: unknown[] = []
  private readonly waiters = new Set<() => void>()

  add(body: unknown): void {
    this.bodies.push(body)
    for (const waiter of [...this.waiters]) waiter()
  }

  wait(what: string, done: () => boolean, options: UntilOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 5_000
    if (done()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return
        clearTimeout(timer)
        this.waiters.delete(check)
        resolve()
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new UntilTimeoutError(what, timeoutMs, this.bodies.length))
      }, timeoutMs)
      this.waiters.add(check)
    })
  }
}

const untilOptionChecks: OptionShape = { timeoutMs: integer(1) }
const receivedChecks: OptionShape = { count: required(integer(0)) }
const matchingChecks: OptionShape = { predicate: required(ofType('function')) }

// A wrong count or timeout would otherwise wait out the default timeout and blame the handler.
function checkArguments(where: string, checks: OptionShape, values: Record<string, unknown>, options: UntilOptions | undefined): void {
  validateOptions(values, checks, where, 'testing')
  validateOptions(options ?? {}, untilOptionChecks, `${where} options`, 'testing')
}

export function untilOf(name: string, log: HandledLog): Until {
  return {
    async received(count, options) {
      checkArguments(`until('${name}').received`, receivedChecks, { count }, options)
      await log.wait(`'${name}' to have handled ${count} messages`, () => log.bodies.length >= count, options)
    },
    async matching<T>(predicate: (body: T) => boolean, options?: UntilOptions): Promise<T> {
      checkArguments(`until('${name}').matching`, matchingChecks, { predicate }, options)
      const find = () => log.bodies.find((body) => predicate(body as T)) as T | undefined
      await log.wait(`a message matching the predicate on '${name}'`, () => find() !== undefined, options)
      return find() as T
    },
  }
}
