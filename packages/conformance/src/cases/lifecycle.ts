import { ClosedError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, type Harness, uniqueName } from '../harness.js'

export function lifecycleCases(h: Harness): void {
  describe('lifecycle', () => {
    it('reports the capabilities the adapter declares', async () => {
      const mq = await h.connect()
      expect(mq.capabilities).toEqual(h.capabilities)
    })

    it('makes close() idempotent and later calls fail with ClosedError', async () => {
      const mq = await h.connect()
      const queue = mq.queue(uniqueName('closed'), h.target.queueOptions)
      await Promise.all([mq.close(), mq.close()])
      await mq.close()
      expect(mq.closed).toBe(true)
      await expect(queue.send('x')).rejects.toBeInstanceOf(ClosedError)
      expect(() => mq.queue('other')).toThrow(ClosedError)
    })

    it('closes a consumer when its AbortSignal fires', async () => {
      const mq = await h.connect()
      const name = uniqueName('abort')
      const queue = mq.queue<number>(name, h.target.queueOptions)
      const controller = new AbortController()
      const seen = new Collector<number>()
      const sub = queue.consume(seen.handler, { signal: controller.signal })
      await sub.ready
      await queue.send(1)
      await seen.waitForCount(1, h.ms(10_000))
      controller.abort()
      await sub.close()
      await queue.send(2)
      const after = new Collector<number>()
      await queue.consume(after.handler).ready
      await after.waitForCount(1, h.ms(10_000))
      expect(seen.bodies).toEqual([1])
      expect(after.bodies).toEqual([2])
    })

    it('reads messages with for await, acking each when the loop moves on, nothing left behind', async () => {
      const mq = await h.connect()
      const queue = mq.queue<number>(uniqueName('iterate'), h.target.queueOptions)
      await queue.sendBatch([1, 2, 3])
      const received: number[] = []
      for await (const message of queue.messages()) {
        received.push(message.body)
        if (received.length === 3) {
          // Leaving the loop hands the current message back unless it was acked first.
          await message.ack()
          break
        }
      }
      expect(received.sort()).toEqual([1, 2, 3])
      await queue.send(4)
      const after = new Collector<number>()
      await queue.consume(after.handler).ready
      await after.waitForCount(1, h.ms(10_000))
      expect(after.bodies).toEqual([4])
    })
  })
}
