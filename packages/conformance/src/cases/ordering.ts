import { describe, expect, it } from 'vitest'
import { Collector, type Harness, uniqueName } from '../harness.js'

export function orderingCases(h: Harness): void {
  describe('ordering', () => {
    it('processes one key at a time in order while different keys run in parallel', async () => {
      const mq = await h.connect()
      const queue = mq.queue<{ key: string; seq: number }>(uniqueName('order'), h.target.queueOptions)
      const seen = new Collector<{ key: string; seq: number }>()
      let running = 0
      let maxRunning = 0
      const runningKeys = new Set<string>()
      let overlapOfOneKey = false
      await queue.consume(
        async (message) => {
          if (runningKeys.has(message.body.key)) overlapOfOneKey = true
          runningKeys.add(message.body.key)
          running++
          maxRunning = Math.max(maxRunning, running)
          await new Promise((resolve) => setTimeout(resolve, 2))
          running--
          runningKeys.delete(message.body.key)
          seen.add(message)
        },
        { concurrency: 8, prefetch: 32 },
      ).ready
      const keys = ['a', 'b', 'c', 'd']
      const bodies = Array.from({ length: 25 }, (_, seq) => keys.map((key) => ({ key, seq }))).flat()
      await queue.sendBatch(bodies, (body) => ({ key: body.key }))
      await seen.waitForCount(bodies.length, h.ms(30_000))
      for (const key of keys) {
        expect(seen.bodies.filter((body) => body.key === key).map((body) => body.seq)).toEqual(Array.from({ length: 25 }, (_, seq) => seq))
      }
      expect(overlapOfOneKey).toBe(false)
      expect(maxRunning).toBeGreaterThan(1)
    })

    it('retries a failed message after the ones behind it: the others of its key keep their order and are not blocked', async () => {
      const mq = await h.connect()
      const retryDelayMs = h.ms(3_000)
      const queue = mq.queue<{ key: string; seq: number }>(uniqueName('order-retry'), {
        ...h.target.queueOptions,
        retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: retryDelayMs, jitter: false } },
      })
      const seen: Array<{ seq: number; attempt: number; at: number }> = []
      const done = new Collector<{ key: string; seq: number }>()
      await queue.consume(
        async (message) => {
          seen.push({ seq: message.body.seq, attempt: message.attempt, at: Date.now() })
          if (message.body.seq === 1 && message.attempt === 1) throw new Error('fails once')
          done.add(message)
        },
        { concurrency: 4 },
      ).ready
      const bodies = Array.from({ length: 5 }, (_, seq) => ({ key: 'only', seq }))
      await queue.sendBatch(bodies, (body) => ({ key: body.key }))
      await done.waitForCount(5, h.ms(30_000))
      // The guarantee under retries: first deliveries keep their order; the failed one comes back later.
      expect(seen.filter((entry) => entry.attempt === 1).map((entry) => entry.seq)).toEqual([0, 1, 2, 3, 4])
      expect(done.bodies.map((body) => body.seq)).toEqual([0, 2, 3, 4, 1])
      const failedAt = seen.find((entry) => entry.seq === 1)?.at ?? 0
      const lastOthersAt = Math.max(...seen.filter((entry) => entry.seq > 1).map((entry) => entry.at))
      // Not blocked: the messages behind the failed one ran before its retry was even due.
      expect(lastOthersAt - failedAt).toBeLessThan(retryDelayMs)
      expect(seen.find((entry) => entry.seq === 1 && entry.attempt > 1)?.attempt).toBe(2)
    })

    if (h.capabilities.ordering === 'key') {
      it('keeps per-key order across two consumer instances', async () => {
        const [producer, first, second] = [await h.connect(), await h.connect(), await h.connect()]
        const name = uniqueName('order-2')
        const options = { ...h.target.queueOptions, ordered: true }
        const seen = new Collector<{ key: string; seq: number }>()
        const handler = async (message: Parameters<typeof seen.handler>[0]) => {
          await new Promise((resolve) => setTimeout(resolve, 1))
          seen.add(message)
        }
        await Promise.all([
          first.queue<{ key: string; seq: number }>(name, options).consume(handler, { concurrency: 4 }).ready,
          second.queue<{ key: string; seq: number }>(name, options).consume(handler, { concurrency: 4 }).ready,
        ])
        // An odd number of keys: an even split over two consumers could hide an adapter that ignores `ordered`.
        const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7']
        const bodies = Array.from({ length: 20 }, (_, seq) => keys.map((key) => ({ key, seq }))).flat()
        await producer.queue<{ key: string; seq: number }>(name, options).sendBatch(bodies, (body) => ({ key: body.key }))
        await seen.waitForCount(bodies.length, h.ms(30_000))
        for (const key of keys) {
          expect(seen.bodies.filter((body) => body.key === key).map((body) => body.seq)).toEqual(Array.from({ length: 20 }, (_, seq) => seq))
        }
      })

      it('keeps per-key order when a consumer instance closes mid-stream and another takes over', async () => {
        const [producer, first, second] = [await h.connect(), await h.connect(), await h.connect()]
        const name = uniqueName('order-handover')
        const options = { ...h.target.queueOptions, ordered: true }
        const seen = new Collector<{ key: string; seq: number }>()
        const running = new Set<string>()
        const overlaps: string[] = []
        // Slow enough that the closing instance still runs handlers (and holds unstarted messages) when it closes.
        const handler = async (message: Parameters<typeof seen.handler>[0]) => {
          const { key, seq } = message.body
          if (running.has(key)) overlaps.push(`${key}#${seq}`)
          running.add(key)
          await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 30))
          running.delete(key)
          seen.add(message)
        }
        const closing = first.queue<{ key: string; seq: number }>(name, options).consume(handler, { concurrency: 8 })
        await Promise.all([closing.ready, second.queue<{ key: string; seq: number }>(name, options).consume(handler, { concurrency: 8 }).ready])
        const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7']
        const perKey = 40
        const bodies = Array.from({ length: perKey }, (_, seq) => keys.map((key) => ({ key, seq }))).flat()
        await producer.queue<{ key: string; seq: number }>(name, options).sendBatch(bodies, (body) => ({ key: body.key }))
        await seen.waitForCount(bodies.length / 4, h.ms(30_000))
        await closing.close()
        await seen.waitForDistinct(bodies.length, h.ms(60_000))
        // At least once: a message may come again (a replay from the last commit), but none is handled for the
        // first time before every message sent ahead of it of its key was.
        for (const key of keys) {
          const firstHandled = [...new Set(seen.bodies.filter((body) => body.key === key).map((body) => body.seq))]
          expect(firstHandled, `order of ${key}`).toEqual(Array.from({ length: perKey }, (_, seq) => seq))
        }
        expect(overlaps, 'messages of one key handled at the same time').toEqual([])
      })
    }
  })
}
