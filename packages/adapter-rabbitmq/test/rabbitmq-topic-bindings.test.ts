import type { SubscriptionSpec } from '@anymq/core/spi'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type TopicBinding, TopicBindings } from '../src/rabbitmq-topic-bindings.js'

const spec = (topic: string, filter?: SubscriptionSpec['filter']) => ({ topic, name: 's', filter }) as unknown as SubscriptionSpec
const binding = (topic: string, queue: string, filter?: SubscriptionSpec['filter']): TopicBinding => ({ spec: spec(topic, filter), queue, durable: true })

describe('TopicBindings: the periodic binding check of running subscriptions', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('binds every topic of a running subscription each period, each binding once, on one unref’d timer', async () => {
    const rebind = vi.fn(async () => {})
    const bindings = new TopicBindings(rebind, 1_000)
    const named = binding('orders', 'orders.billing')
    bindings.add(named)
    // A second consumer of the same named subscription: one binding to keep.
    bindings.add(binding('orders', 'orders.billing'))
    bindings.add(binding('refunds', 'refunds.audit', { subject: 'eu.*' }))
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
    // Every topic in one call, so that the check runs on one channel.
    expect(rebind.mock.calls).toEqual([
      [
        [
          { topic: 'orders', bindings: [binding('orders', 'orders.billing')] },
          { topic: 'refunds', bindings: [binding('refunds', 'refunds.audit', { subject: 'eu.*' })] },
        ],
      ],
    ])
    const timer = (bindings as unknown as { timer: NodeJS.Timeout }).timer
    expect(timer.hasRef()).toBe(false)
  })

  it('stops when the last subscription closes, and on close()', async () => {
    const rebind = vi.fn(async () => {})
    const bindings = new TopicBindings(rebind, 1_000)
    const release = bindings.add(binding('orders', 'orders.billing'))
    release()
    expect(vi.getTimerCount()).toBe(0)
    bindings.add(binding('orders', 'orders.billing'))
    bindings.close()
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(rebind).not.toHaveBeenCalled()
  })

  it('runs no timer when the check is turned off (bindingCheckMs: 0)', () => {
    const bindings = new TopicBindings(async () => {}, 0)
    bindings.add(binding('orders', 'orders.billing'))
    expect(vi.getTimerCount()).toBe(0)
  })
})
