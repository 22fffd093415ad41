import type { Anymq } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestBroker, type FakeClock, installFakeClock, spy } from '../src/index.js'

describe('installFakeClock with the memory broker', () => {
  let clock: FakeClock | undefined
  let mq: Anymq | undefined
  afterEach(async () => {
    try {
      await mq?.close()
    } finally {
      mq = undefined
      clock?.uninstall()
      clock = undefined
    }
  })

  it('runs a retry backoff of minutes in fake time: attempt 2 exactly at 1 min, attempt 3 at 2 min more', async () => {
    clock = installFakeClock({ now: new Date('2026-01-01T00:00:00Z') })
    mq = await createTestBroker().connect()
    const queue = mq.queue<string>('billing', {
      retry: { maxAttempts: 3, backoff: { type: 'exponential', initialMs: 60_000, maxMs: 3_600_000, jitter: false } },
    })
    const handler = spy(async (message: { attempt: number }) => {
      if (message.attempt < 3) throw new Error(`attempt ${message.attempt} fails`)
    })
    const subscription = queue.consume(handler)
    await subscription.ready
    await queue.send('invoice-1')
    await clock.settle()
    expect(handler.calls).toHaveLength(1)
    await clock.advance(59_999)
    expect(handler.calls).toHaveLength(1)
    await clock.advance(1)
    expect(handler.calls).toHaveLength(2)
    await clock.advance(119_999)
    expect(handler.calls).toHaveLength(2)
    await clock.advance(1)
    expect(handler.calls).toHaveLength(3)
    expect(subscription.counts).toMatchObject({ acked: 1, retried: 2, deadLettered: 0 })
    expect(clock.now()).toBe(Date.parse('2026-01-01T00:03:00Z'))
  })

  it('delivers a message delayed by an hour when the fake hour has passed, not before', async () => {
    clock = installFakeClock()
    mq = await createTestBroker().connect()
    const queue = mq.queue<string>('reminders')
    const handler = spy()
    await queue.consume(handler).ready
    await queue.send('call back', { delayMs: 3_600_000 })
    await clock.advance(3_599_999)
    expect(handler.calls).toEqual([])
    await clock.advance(1)
    expect(handler.calls).toEqual(['call back'])
  })

  it('redelivers a message whose lease expired in fake time', async () => {
    clock = installFakeClock()
    mq = await createTestBroker().connect()
    const queue = mq.queue<string>('jobs')
    const attempts: number[] = []
    let releaseFirst = () => {}
    await queue.consume(
      async (message) => {
        attempts.push(message.attempt)
        if (message.attempt === 1) await new Promise<void>((resolve) => (releaseFirst = resolve))
      },
      { leaseMs: 30_000, concurrency: 2 },
    ).ready
    await queue.send('stuck once')
    await clock.advance(29_000)
    expect(attempts).toEqual([1])
    await clock.advance(1_000)
    expect(attempts).toEqual([1, 2])
    releaseFirst()
  })

  it('drops a message past its ttlMs without waiting in real time', async () => {
    clock = installFakeClock()
    mq = await createTestBroker().connect()
    const queue = mq.queue<string>('offers')
    await queue.send('expires', { ttlMs: 60_000 })
    await clock.advance(61_000)
    const handler = spy()
    const subscription = queue.consume(handler)
    await subscription.ready
    await clock.settle()
    expect(handler.calls).toEqual([])
    expect(subscription.counts.expired).toBe(1)
  })

  it('puts the real timers back on uninstall', () => {
    const before = Date.now()
    const fake = installFakeClock({ now: 0 })
    expect(Date.now()).toBe(0)
    fake.uninstall()
    fake.uninstall()
    expect(Date.now()).toBeGreaterThanOrEqual(before)
  })
})
