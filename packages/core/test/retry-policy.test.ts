import { describe, expect, it } from 'vitest'
import { createRetryPolicy } from '../src/retry-policy.js'

describe('retry policy', () => {
  it('grows exponentially up to the maximum without jitter', () => {
    const policy = createRetryPolicy({ maxAttempts: 6, backoff: { type: 'exponential', initialMs: 100, maxMs: 1000, jitter: false } })
    expect([1, 2, 3, 4, 5].map((attempt) => policy.delayAfter(attempt))).toEqual([100, 200, 400, 800, 1000])
    expect(policy.maxAttempts).toBe(6)
  })

  it('keeps jittered delays between half and all of the computed delay', () => {
    const low = createRetryPolicy({ backoff: { type: 'exponential', initialMs: 200 } }, () => 0)
    const high = createRetryPolicy({ backoff: { type: 'exponential', initialMs: 200 } }, () => 0.999999)
    expect(low.delayAfter(2)).toBe(200)
    expect(high.delayAfter(2)).toBe(400)
  })

  it('uses a fixed delay when asked, and one attempt when retry is false', () => {
    expect(createRetryPolicy({ backoff: { type: 'fixed', delayMs: 250, jitter: false } }).delayAfter(4)).toBe(250)
    expect(createRetryPolicy(false).maxAttempts).toBe(1)
    expect(createRetryPolicy(undefined).maxAttempts).toBe(5)
  })
})
