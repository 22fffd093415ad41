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
        const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']
        const bodies = Array.from({ length: 20 }, (_, seq) => keys.map((key) => ({ key, seq }))).flat()
        await producer.queue<{ key: string; seq: number }>(name, options).sendBatch(bodies, (body) => ({ key: body.key }))
        await seen.waitForCount(bodies.length, h.ms(30_000))
        for (const key of keys) {
          expect(seen.bodies.filter((body) => body.key === key).map((body) => body.seq)).toEqual(Array.from({ length: 20 }, (_, seq) => seq))
        }
      })
    }
  })
}
