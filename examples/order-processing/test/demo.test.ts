import { describe, expect, it } from 'vitest'
import { runDemo } from '../src/run-demo.js'

describe('order-processing demo on memory://', () => {
  it('accounts for every order: sent = processed + dead-lettered, every event fanned out, order kept', async () => {
    const summary = await runDemo({ url: 'memory://demo-test', orders: 300, quiet: true })
    expect(summary.sent).toBe(300)
    expect(summary.processed + summary.deadLettered).toBe(300)
    expect(summary.redriven).toBeGreaterThanOrEqual(1)
    expect(summary.deadLettered).toBeGreaterThanOrEqual(1)
    expect(summary.retried).toBeGreaterThan(0)
    expect(summary.invoicing).toBe(summary.processed)
    expect(summary.notifications).toBe(summary.processed)
    expect(summary.orderViolations).toBe(0)
    expect(summary.deadLetters.every((letter) => letter.error.includes('discontinued') && letter.attempts === 3)).toBe(true)
  })
})
