import { MemoryIdempotencyStore, type Subscription } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, delay, type Harness, uniqueName, withTimeout } from '../harness.js'

/** Resolves once the subscription's counts reach these totals (a skipped duplicate is acked after it is counted). */
function countsReach(subscription: Subscription, totals: { duplicates: number; acked: number }, timeoutMs: number): Promise<void> {
  const { counts } = subscription
  return withTimeout(
    (async () => {
      while (counts.duplicates < totals.duplicates || counts.acked < totals.acked) await delay(20)
    })(),
    timeoutMs,
    () => `expected ${totals.duplicates} skipped and ${totals.acked} acked, got ${counts.duplicates} skipped, ${counts.acked} acked`,
  )
}

/**
 * The idempotent consumer over a real broker: the broker must carry the message id unchanged, and
 * core must settle a skipped duplicate. (The crash windows are core's ordering of record and ack; they
 * are proven once, on memory://, in core's tests.)
 */
export function idempotencyCases(h: Harness): void {
  describe('idempotency', () => {
    it('runs the handler once for a message id sent twice, and acks the duplicate', async () => {
      const mq = await h.connect()
      const queue = mq.queue<string>(uniqueName('idem-twice'), h.target.queueOptions)
      const seen = new Collector<string>()
      const subscription = queue.consume(seen.handler, { idempotency: { store: new MemoryIdempotencyStore(), ttlMs: 60_000 } })
      await subscription.ready
      await queue.send('first copy', { id: 'order-42' })
      await queue.send('second copy', { id: 'order-42' })
      await queue.send('another order', { id: 'order-43' })
      await countsReach(subscription, { duplicates: 1, acked: 3 }, h.ms(20_000))
      await seen.waitForCount(2, h.ms(20_000))
      await delay(h.ms(300))
      expect(seen.items.map((message) => message.id).sort()).toEqual(['order-42', 'order-43'])
      expect(subscription.counts.duplicates).toBe(1)
      expect(subscription.counts.acked).toBe(3)
    })
  })
}
