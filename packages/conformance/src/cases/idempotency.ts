import { type IdempotencyOutcome, type IdempotencyStore, MemoryIdempotencyStore, type Subscription, transportOf } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, deferred, delay, type Harness, uniqueName, withTimeout } from '../harness.js'

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
 * The idempotent consumer over a real broker: the broker must carry the message id unchanged through
 * a send and a redelivery, and core must settle a skipped duplicate. The store is the in-process one,
 * shared by both connections of a case as a Redis or SQL store would be shared by two processes.
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

    it('skips a redelivery after a crash between recording the id and the ack', async () => {
      const name = uniqueName('idem-crash')
      const leaseMs = h.capabilities.leaseExpiry ? h.ms(1500) : undefined
      const shared = new MemoryIdempotencyStore()
      const recorded = deferred()
      // Records the id like the real store, then never returns: the process "dies" before the ack.
      const crashesAfterRecord: IdempotencyStore = {
        async process<R>(messageId: string, work: (context: unknown) => R | Promise<R>): Promise<IdempotencyOutcome<R>> {
          await shared.process(messageId, work)
          recorded.resolve()
          return new Promise<never>(() => {})
        },
      }
      const effects: string[] = []
      const doomed = await h.connect()
      await doomed
        .queue<string>(name, h.target.queueOptions)
        .consume((message) => void effects.push(message.body), { idempotency: { store: crashesAfterRecord }, ...(leaseMs ? { leaseMs } : {}) }).ready
      await doomed.queue<string>(name, h.target.queueOptions).send('charge card', { id: 'payment-7' })
      await recorded.promise
      h.forget(doomed)
      await transportOf(doomed).terminate()
      const rescuer = await h.connect()
      const subscription = rescuer
        .queue<string>(name, h.target.queueOptions)
        .consume((message) => void effects.push(message.body), { idempotency: { store: shared }, ...(leaseMs ? { leaseMs } : {}) })
      await subscription.ready
      await countsReach(subscription, { duplicates: 1, acked: 1 }, h.ms(45_000))
      expect(effects).toEqual(['charge card'])
      expect(subscription.counts.acked).toBe(1)
    })

    it('runs the handler again after a crash between its effect and recording the id (the documented window)', async () => {
      const name = uniqueName('idem-window')
      const leaseMs = h.capabilities.leaseExpiry ? h.ms(1500) : undefined
      const shared = new MemoryIdempotencyStore()
      const effects: number[] = []
      const effectDone = deferred()
      const doomed = await h.connect()
      await doomed.queue<string>(name, h.target.queueOptions).consume(
        async (message) => {
          effects.push(message.attempt)
          effectDone.resolve()
          await new Promise(() => {})
        },
        // What the dying process held in its store (a running mark) dies with it, as a Redis lease expires.
        { idempotency: { store: new MemoryIdempotencyStore() }, ...(leaseMs ? { leaseMs } : {}) },
      ).ready
      await doomed.queue<string>(name, h.target.queueOptions).send('send email', { id: 'mail-9' })
      await effectDone.promise
      h.forget(doomed)
      await transportOf(doomed).terminate()
      const rescuer = await h.connect()
      const seen = new Collector<string>()
      const subscription = rescuer.queue<string>(name, h.target.queueOptions).consume(
        (message) => {
          effects.push(message.attempt)
          seen.add(message)
        },
        { idempotency: { store: shared }, ...(leaseMs ? { leaseMs } : {}) },
      )
      await subscription.ready
      await seen.waitForCount(1, h.ms(45_000))
      expect(effects.length).toBe(2)
      expect(subscription.counts.duplicates).toBe(0)
      // Now recorded: a third copy of the id is skipped.
      await rescuer.queue<string>(name, h.target.queueOptions).send('send email', { id: 'mail-9' })
      await countsReach(subscription, { duplicates: 1, acked: 2 }, h.ms(20_000))
      expect(effects.length).toBe(2)
    })
  })
}
