import { either, integer, type OptionCheck, objectOf, ofType, oneOf, required, variant } from './options-validation.js'

/** How often a failing message is tried, and how long to wait between tries. */
export interface RetryPolicyOptions {
  /** Deliveries in all, the first included, before the message is dead-lettered. Default 5. */
  maxAttempts?: number
  backoff?: BackoffOptions
}

export type BackoffOptions =
  | {
      type: 'exponential'
      initialMs?: number
      maxMs?: number
      multiplier?: number
      jitter?: boolean
    }
  | { type: 'fixed'; delayMs: number; jitter?: boolean }

/** Checks a `retry` option (`false` or a {@link RetryPolicyOptions}), naming the deepest wrong field. */
export const retryPolicyCheck: OptionCheck = either(
  oneOf(false),
  objectOf(
    {
      maxAttempts: integer(1, 1000),
      backoff: variant('type', {
        exponential: { initialMs: integer(0), maxMs: integer(0), multiplier: integer(1, 100), jitter: ofType('boolean') },
        fixed: { delayMs: required(integer(0)), jitter: ofType('boolean') },
      }),
    },
    'a retry policy { maxAttempts, backoff }',
  ),
)

export interface RetryPolicy {
  readonly maxAttempts: number
  /** Delay before delivery number `attempt + 1`, given that delivery `attempt` failed. */
  delayAfter(attempt: number): number
}

export const defaultRetry = {
  maxAttempts: 5,
  backoff: {
    type: 'exponential',
    initialMs: 200,
    maxMs: 30_000,
    multiplier: 2,
    jitter: true,
  },
} as const satisfies RetryPolicyOptions

/**
 * Exponential backoff with "full jitter" when jitter is on: a random delay between half the computed
 * delay and the whole of it, so retries of many messages that failed together spread out.
 */
export function createRetryPolicy(options: RetryPolicyOptions | false | undefined, random: () => number = Math.random): RetryPolicy {
  if (options === false) return { maxAttempts: 1, delayAfter: () => 0 }
  const maxAttempts = options?.maxAttempts ?? defaultRetry.maxAttempts
  const backoff = options?.backoff ?? defaultRetry.backoff
  return {
    maxAttempts,
    delayAfter(attempt) {
      let delay: number
      if (backoff.type === 'fixed') delay = backoff.delayMs
      else {
        const initial = backoff.initialMs ?? defaultRetry.backoff.initialMs
        const max = backoff.maxMs ?? defaultRetry.backoff.maxMs
        const multiplier = backoff.multiplier ?? defaultRetry.backoff.multiplier
        delay = Math.min(max, initial * multiplier ** Math.max(0, attempt - 1))
      }
      if (backoff.jitter ?? true) delay = delay / 2 + (random() * delay) / 2
      return Math.round(delay)
    },
  }
}
