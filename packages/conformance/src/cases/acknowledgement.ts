import { type Message, transportOf, UnsupportedFeatureError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, deferred, delay, type Harness, uniqueName } from '../harness.js'

export function acknowledgementCases(h: Harness): void {
  describe('acknowledgement', () => {
    it('redelivers a nacked message with attempt 2', async () => {
      const mq = await h.connect()
      const queue = mq.queue<string>(uniqueName('nack'), {
        ...h.target.queueOptions,
        retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 0 } },
      })
      const seen = new Collector<string>()
      await queue.consume(
        async (message) => {
          seen.add(message)
          if (message.attempt === 1) await message.nack()
          else await message.ack()
        },
        { ack: 'manual' },
      ).ready
      await queue.send('again')
      await seen.waitForCount(2, h.ms(15_000))
      expect(seen.items.map((message) => [message.body, message.attempt])).toEqual([
        ['again', 1],
        ['again', 2],
      ])
    })

    it('redelivers after nack({ delayMs }) no sooner than the delay', async () => {
      const mq = await h.connect()
      const queue = mq.queue<string>(uniqueName('nack-delay'), {
        ...h.target.queueOptions,
        retry: { maxAttempts: 3 },
      })
      const seen = new Collector<string>()
      const times: number[] = []
      await queue.consume(
        async (message) => {
          times.push(Date.now())
          seen.add(message)
          if (message.attempt === 1) await message.nack({ delayMs: 1000 })
          else await message.ack()
        },
        { ack: 'manual' },
      ).ready
      await queue.send('later')
      await seen.waitForCount(2, h.ms(15_000))
      expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(950)
    })

    it('delivers a released message again, never inside the release() that gave it back', async () => {
      const mq = await h.connect()
      const queue = mq.queue<number>(uniqueName('release'), h.target.queueOptions)
      const released = new Set<number>()
      const handled = new Collector<number>()
      let releasing = false
      let startedInsideRelease = 0
      await queue.consume(
        async (message) => {
          // A handler started from inside the release() below finds the flag up.
          if (releasing) startedInsideRelease++
          await delay(0)
          if (!released.has(message.body)) {
            released.add(message.body)
            releasing = true
            const giving = message.release()
            releasing = false
            await giving
            return
          }
          handled.add(message)
        },
        { concurrency: 4 },
      ).ready
      await queue.sendBatch([1, 2, 3])
      await handled.waitForDistinct(3, h.ms(20_000))
      expect(startedInsideRelease).toBe(0)
      expect([...new Set(handled.bodies)].sort()).toEqual([1, 2, 3])
    })

    it('does not redeliver a message acked in manual mode', async () => {
      const mq = await h.connect()
      const name = uniqueName('manual-ack')
      const queue = mq.queue<string>(name, h.target.queueOptions)
      const seen = new Collector<string>()
      const sub = queue.consume(
        async (message) => {
          await message.ack()
          seen.add(message)
        },
        { ack: 'manual' },
      )
      await sub.ready
      await queue.send('once')
      await seen.waitForCount(1, h.ms(10_000))
      await sub.close()
      await queue.send('marker')
      const after = new Collector<string>()
      await queue.consume(after.handler).ready
      await after.waitForCount(1, h.ms(10_000))
      expect(after.bodies).toEqual(['marker'])
    })

    it('redelivers to another consumer what a consumer that died held unacked', async () => {
      const name = uniqueName('crash')
      const leaseMs = h.capabilities.leaseExpiry ? h.ms(1500) : undefined
      const doomed = await h.connect()
      const holding = deferred()
      await doomed.queue<string>(name, h.target.queueOptions).consume(
        async () => {
          holding.resolve()
          await new Promise(() => {})
        },
        leaseMs === undefined ? {} : { leaseMs },
      ).ready
      await doomed.queue<string>(name, h.target.queueOptions).send('survivor')
      await holding.promise
      h.forget(doomed)
      await transportOf(doomed).terminate()
      const rescuer = await h.connect()
      const seen = new Collector<string>()
      await rescuer.queue<string>(name, h.target.queueOptions).consume(seen.handler, leaseMs === undefined ? {} : { leaseMs }).ready
      await seen.waitForCount(1, h.ms(45_000))
      expect(seen.bodies).toEqual(['survivor'])
      expect(seen.items[0]?.attempt).toBe(h.target.countsRedeliveries === false ? 1 : 2)
    })

    if (h.capabilities.leaseExpiry) {
      it('redelivers a message held past its lease to another consumer', async () => {
        const mq = await h.connect()
        const name = uniqueName('lease')
        const stuck = deferred()
        const seen = new Collector<string>()
        const hung = new Promise<void>(() => {})
        await mq.queue<string>(name, h.target.queueOptions).consume(
          async (message: Message<string>) => {
            seen.add(message)
            stuck.resolve()
            await hung
          },
          { leaseMs: h.ms(1000), ack: 'manual' },
        ).ready
        await mq.queue<string>(name, h.target.queueOptions).send('held')
        await stuck.promise
        const other = await h.connect()
        const rescued = new Collector<string>()
        await other.queue<string>(name, h.target.queueOptions).consume(rescued.handler, { leaseMs: h.ms(5000) }).ready
        await rescued.waitForCount(1, h.ms(30_000))
        expect(rescued.items[0]?.body).toBe('held')
        expect(rescued.items[0]?.attempt).toBe(2)
        h.forget(mq)
        await transportOf(mq).terminate()
      })
    } else {
      it('refuses leaseMs with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        expect(() => mq.queue(uniqueName('lease')).consume(() => {}, { leaseMs: 1000 })).toThrow(UnsupportedFeatureError)
      })
    }

    if (h.capabilities.leaseExtension) {
      it('keeps a message whose lease the handler extends', async () => {
        const mq = await h.connect()
        const name = uniqueName('extend')
        const seen = new Collector<string>()
        const leaseMs = h.ms(1000)
        await mq.queue<string>(name, h.target.queueOptions).consume(
          async (message) => {
            seen.add(message)
            for (let round = 0; round < 3; round++) {
              await message.extendLease(leaseMs * 2)
              await new Promise((resolve) => setTimeout(resolve, leaseMs * 0.8))
            }
          },
          { leaseMs, concurrency: 2 },
        ).ready
        await mq.queue<string>(name, h.target.queueOptions).send('long job')
        await seen.waitForCount(1, h.ms(10_000))
        await new Promise((resolve) => setTimeout(resolve, leaseMs * 3))
        expect(seen.items).toHaveLength(1)
      })
    } else {
      it('refuses extendLease() with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        const queue = mq.queue<string>(uniqueName('extend'), h.target.queueOptions)
        const result = deferred<unknown>()
        await queue.consume(async (message) => {
          result.resolve(await message.extendLease(1000).catch((error: unknown) => error))
        }).ready
        await queue.send('x')
        expect(await result.promise).toBeInstanceOf(UnsupportedFeatureError)
      })
    }

    if (h.capabilities.expiry !== false) {
      it(`drops a message not delivered within its ttlMs, unhandled (${h.capabilities.expiry})`, async () => {
        const mq = await h.connect()
        const queue = mq.queue<string>(uniqueName('expiry'), h.target.queueOptions)
        await queue.send('short-lived', { ttlMs: h.ms(200) })
        await queue.send('long-lived', { ttlMs: 600_000 })
        await queue.send('forever')
        await delay(h.ms(600))
        const seen = new Collector<string>()
        const subscription = queue.consume(seen.handler)
        await subscription.ready
        await seen.waitForCount(2, h.ms(20_000))
        await delay(h.ms(300))
        expect(seen.bodies.sort()).toEqual(['forever', 'long-lived'])
        // Native: the broker discarded it; emulated: it arrived and anymq acked it unhandled.
        if (h.capabilities.expiry === 'native') expect(subscription.counts.received).toBe(2)
        else expect(subscription.counts.expired).toBe(1)
      })
    } else {
      it('refuses ttlMs with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        await expect(mq.queue(uniqueName('expiry'), h.target.queueOptions).send('x', { ttlMs: 1000 })).rejects.toBeInstanceOf(UnsupportedFeatureError)
      })
    }

    if (h.capabilities.dedupe !== false) {
      it('drops a repeated dedupeId within the window', async () => {
        const mq = await h.connect()
        const queue = mq.queue<string>(uniqueName('dedupe'), h.target.queueOptions)
        const seen = new Collector<string>()
        await queue.consume(seen.handler).ready
        await queue.send('first', { dedupeId: 'same' })
        await queue.send('repeat', { dedupeId: 'same' })
        await queue.send('other', { dedupeId: 'different' })
        await seen.waitForCount(2, h.ms(10_000))
        await queue.send('marker')
        await seen.waitForCount(3, h.ms(10_000))
        expect(seen.bodies.sort()).toEqual(['first', 'marker', 'other'])
      })
    } else {
      it('refuses dedupeId with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        await expect(mq.queue(uniqueName('dedupe'), h.target.queueOptions).send('x', { dedupeId: 'a' })).rejects.toBeInstanceOf(UnsupportedFeatureError)
      })
    }
  })
}
