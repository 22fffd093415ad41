import { describe, expect, it } from 'vitest'
import { Collector, deferred, type Harness, uniqueName } from '../harness.js'

export function queueCases(h: Harness): void {
  describe('queue', () => {
    it('gives each message to exactly one of the competing consumers', async () => {
      const [a, b] = [await h.connect(), await h.connect()]
      const name = uniqueName('compete')
      const seen = new Collector<number>()
      await Promise.all([
        a.queue<number>(name, h.target.queueOptions).consume(seen.handler, { concurrency: 4 }).ready,
        b.queue<number>(name, h.target.queueOptions).consume(seen.handler, { concurrency: 4 }).ready,
      ])
      const bodies = Array.from({ length: 200 }, (_, index) => index)
      await a.queue<number>(name, h.target.queueOptions).sendBatch(bodies)
      // Where a competitor may see a repeat, 200 deliveries can hold a repeat and miss the last message.
      if (h.target.competitorsMaySeeDuplicates) await seen.waitForDistinct(200, h.ms(20_000))
      else await seen.waitForCount(200, h.ms(20_000))
      await a.close()
      await b.close()
      const received = seen.bodies.sort((x, y) => x - y)
      if (h.target.competitorsMaySeeDuplicates) {
        expect([...new Set(received)]).toEqual(bodies)
        expect(received.length - bodies.length).toBeLessThanOrEqual(bodies.length / 20) // a repeat is rare, not the rule
      } else expect(received).toEqual(bodies)
    })

    it('keeps queues apart: a queue never sees another queue’s messages', async () => {
      const mq = await h.connect()
      const [first, second] = [mq.queue<string>(uniqueName('iso-a'), h.target.queueOptions), mq.queue<string>(uniqueName('iso-b'), h.target.queueOptions)]
      const [seenFirst, seenSecond] = [new Collector<string>(), new Collector<string>()]
      await Promise.all([first.consume(seenFirst.handler).ready, second.consume(seenSecond.handler).ready])
      await Promise.all([first.send('for-a-1'), second.send('for-b-1'), first.send('for-a-2')])
      await Promise.all([seenFirst.waitForCount(2, h.ms(10_000)), seenSecond.waitForCount(1, h.ms(10_000))])
      await mq.close()
      expect(seenFirst.bodies.sort()).toEqual(['for-a-1', 'for-a-2'])
      expect(seenSecond.bodies).toEqual(['for-b-1'])
    })

    it('delivers every message of a batch, with per-message keys and headers', async () => {
      const mq = await h.connect()
      const queue = mq.queue<number>(uniqueName('batch'), h.target.queueOptions)
      const seen = new Collector<number>()
      await queue.consume(seen.handler, { concurrency: 8 }).ready
      const bodies = Array.from({ length: 250 }, (_, index) => index)
      const { ids } = await queue.sendBatch(bodies, (body) => ({
        key: `k${body % 5}`,
        headers: { n: String(body) },
      }))
      expect(new Set(ids).size).toBe(250)
      if (h.target.competitorsMaySeeDuplicates) {
        // The consumer's pollers compete too: a repeat may arrive, and 250 deliveries may not hold all 250.
        await seen.waitForDistinct(250, h.ms(20_000))
        expect([...new Set(seen.bodies)].sort((x, y) => x - y)).toEqual(bodies)
        expect(seen.bodies.length - bodies.length).toBeLessThanOrEqual(bodies.length / 20)
      } else {
        await seen.waitForCount(250, h.ms(20_000))
        expect(seen.bodies.sort((x, y) => x - y)).toEqual(bodies)
      }
      for (const message of seen.items) {
        expect(message.headers.n).toBe(String(message.body))
        expect(message.key).toBe(`k${message.body % 5}`)
      }
    })

    it('loses nothing with many concurrent publishers and many consumers', async () => {
      const { publishers, messagesPerPublisher, consumers } = h.target.stress ?? { publishers: 50, messagesPerPublisher: 100, consumers: 50 }
      const [producer, consumer] = [await h.connect(), await h.connect()]
      const name = uniqueName('stress')
      const seen = new Collector<string>()
      await Promise.all(
        Array.from({ length: consumers }, () => consumer.queue<string>(name, h.target.queueOptions).consume(seen.handler, { concurrency: 2 }).ready),
      )
      const queue = producer.queue<string>(name, h.target.queueOptions)
      await Promise.all(
        Array.from({ length: publishers }, async (_, publisher) => {
          for (let index = 0; index < messagesPerPublisher; index++) await queue.send(`${publisher}:${index}`)
        }),
      )
      const total = publishers * messagesPerPublisher
      await seen.waitForDistinct(total, h.ms(60_000))
      expect(seen.distinct).toBe(total)
    })

    it('loses nothing when consumers are closed and reopened mid-stream', async () => {
      const [producer, consumer] = [await h.connect(), await h.connect()]
      const name = uniqueName('reopen')
      const seen = new Collector<number>()
      const queue = producer.queue<number>(name, h.target.queueOptions)
      const consumerQueue = consumer.queue<number>(name, h.target.queueOptions)
      let sub = consumerQueue.consume(seen.handler, { concurrency: 4 })
      await sub.ready
      const total = 300
      for (let round = 0; round < 3; round++) {
        await queue.sendBatch(Array.from({ length: total / 3 }, (_, index) => round * (total / 3) + index))
        await sub.close()
        sub = consumerQueue.consume(seen.handler, { concurrency: 4 })
        await sub.ready
      }
      await seen.waitForDistinct(total, h.ms(30_000))
      expect(seen.distinct).toBe(total)
    })

    it('loses nothing when many consumers are closed at once', async () => {
      const [producer, consumer] = [await h.connect(), await h.connect()]
      const name = uniqueName('close-many')
      const seen = new Collector<number>()
      const subs = Array.from({ length: 10 }, () => consumer.queue<number>(name, h.target.queueOptions).consume(seen.handler))
      await Promise.all(subs.map((sub) => sub.ready))
      await producer.queue<number>(name, h.target.queueOptions).sendBatch(Array.from({ length: 100 }, (_, index) => index))
      await Promise.all(subs.map((sub) => sub.close()))
      await consumer.queue<number>(name, h.target.queueOptions).consume(seen.handler).ready
      await seen.waitForDistinct(100, h.ms(30_000))
      expect(seen.distinct).toBe(100)
    })

    it('close() flushes every publish it accepted', async () => {
      const producer = await h.connect()
      h.forget(producer)
      const name = uniqueName('flush')
      const queue = producer.queue<number>(name, h.target.queueOptions)
      const sends = Array.from({ length: 200 }, (_, index) => queue.send(index))
      await producer.close()
      const results = await Promise.allSettled(sends)
      expect(results.filter((result) => result.status === 'rejected')).toEqual([])
      const consumer = await h.connect()
      const seen = new Collector<number>()
      await consumer.queue<number>(name, h.target.queueOptions).consume(seen.handler, { concurrency: 8 }).ready
      await seen.waitForCount(200, h.ms(20_000))
      expect(seen.distinct).toBe(200)
    })

    it('graceful close waits for in-flight handlers and acks their messages', async () => {
      const mq = await h.connect()
      const name = uniqueName('drain')
      const queue = mq.queue<string>(name, h.target.queueOptions)
      const started = deferred()
      const release = deferred()
      let finished = false
      const sub = queue.consume(async () => {
        started.resolve()
        await release.promise
        finished = true
      })
      await sub.ready
      await queue.send('slow')
      await started.promise
      const closing = sub.close()
      let closed = false
      void closing.then(() => {
        closed = true
      })
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(closed).toBe(false)
      release.resolve()
      await closing
      expect(finished).toBe(true)
      await queue.send('marker')
      const seen = new Collector<string>()
      await queue.consume(seen.handler).ready
      await seen.waitForCount(1, h.ms(10_000))
      expect(seen.bodies[0]).toBe('marker')
    })

    const volume = h.target.volume ?? 10_000
    it(`counts in equal counts out on ${volume.toLocaleString('en-US').replaceAll(',', ' ')} messages`, async () => {
      const [producer, consumer] = [await h.connect(), await h.connect()]
      const name = uniqueName('10k')
      const seen = new Collector<number>()
      await consumer.queue<number>(name, h.target.queueOptions).consume(seen.handler, { concurrency: 16 }).ready
      const queue = producer.queue<number>(name, h.target.queueOptions)
      const total = volume
      for (let start = 0; start < total; start += 500) await queue.sendBatch(Array.from({ length: Math.min(500, total - start) }, (_, index) => start + index))
      await seen.waitForDistinct(total, h.ms(120_000))
      expect(seen.distinct).toBe(total)
    })
  })
}
