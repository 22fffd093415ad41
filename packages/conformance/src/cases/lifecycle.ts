import { ClosedError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, delay, type Harness, uniqueName, withTimeout } from '../harness.js'

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
      // Nothing else closes it: were the signal ignored, this consumer would take the next message.
      await queue.send(2)
      await delay(h.ms(2_000))
      expect(seen.bodies).toEqual([1])
      const after = new Collector<number>()
      await queue.consume(after.handler).ready
      await after.waitForCount(1, h.ms(10_000))
      expect(seen.bodies).toEqual([1])
      expect(after.bodies).toEqual([2])
      // Closing after the signal did is a no-op.
      await sub.close()
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

    it('ends a for-await loop when its signal aborts: a pending next() resolves with done', async () => {
      const mq = await h.connect()
      const queue = mq.queue<number>(uniqueName('iterate-abort'), h.target.queueOptions)
      const controller = new AbortController()
      const iterator = queue.messages({ signal: controller.signal })
      const waiting = iterator.next()
      await delay(h.ms(500))
      controller.abort()
      expect(await withTimeout(waiting, h.ms(10_000), 'next() after the signal aborted')).toEqual({ value: undefined, done: true })
      expect(await iterator.next()).toEqual({ value: undefined, done: true })
    })

    it('ends a for-await loop when the connection closes', async () => {
      const mq = await h.connect()
      const queue = mq.queue<number>(uniqueName('iterate-close'), h.target.queueOptions)
      const received: number[] = []
      const loop = (async () => {
        for await (const message of queue.messages()) received.push(message.body)
      })()
      await queue.send(1)
      while (received.length === 0) await delay(20)
      await withTimeout(mq.close(), h.ms(15_000), 'closing the connection under a for-await loop')
      await withTimeout(loop, h.ms(10_000), 'the loop to end after close')
      expect(received).toEqual([1])
    })

    it('gives the current message back on break without failing it: it comes again, not dead-lettered', async () => {
      const mq = await h.connect()
      // One attempt only: had break nacked the message (a failed attempt), it would be dead-lettered.
      const queue = mq.queue<string>(uniqueName('iterate-break'), { ...h.target.queueOptions, retry: false })
      await queue.send('left behind')
      for await (const message of queue.messages()) {
        expect(message.body).toBe('left behind')
        break
      }
      const again = new Collector<string>()
      const sub = queue.consume(again.handler)
      await sub.ready
      await again.waitForCount(1, h.ms(30_000))
      expect(again.bodies).toEqual(['left behind'])
      await sub.close()
      expect(await queue.deadLetters().peek(10)).toEqual([])
    })

    it('reads a topic subscription with for await too', async () => {
      const mq = await h.connect()
      const topic = mq.topic<number>(uniqueName('iterate-topic'))
      const subscription = uniqueName('reader')
      // A named subscription keeps what is published while nobody reads it: create it, then publish.
      const creating = topic.subscribe(subscription, () => {})
      await creating.ready
      await creating.close()
      await topic.publishBatch([1, 2])
      const controller = new AbortController()
      const iterator = topic.messages(subscription, { signal: controller.signal })
      const bodies: Array<number | undefined> = []
      for (let index = 0; index < 2; index++) bodies.push((await withTimeout(iterator.next(), h.ms(15_000), 'a topic message')).value?.body)
      controller.abort()
      expect(bodies.sort()).toEqual([1, 2])
      expect(await withTimeout(iterator.next(), h.ms(15_000), 'the end after abort')).toEqual({ value: undefined, done: true })
    })
  })
}
