import { UnsupportedFeatureError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, consumerHoldingFirst, type Harness, uniqueName } from '../harness.js'
import { waitUntil } from './retry.js'

/**
 * Message priority: among messages waiting in a queue, a higher priority is delivered first, and one
 * priority keeps the order it was sent in. Every case makes its queue with `maxPriority`, the portable
 * way (some brokers fix priorities when they create a queue).
 */
export function priorityCases(h: Harness): void {
  describe('priority', () => {
    if (!h.capabilities.priority) {
      it('refuses message priority and priority queues with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        await expect(mq.queue(uniqueName('priority'), h.target.queueOptions).send('x', { priority: 5 })).rejects.toBeInstanceOf(UnsupportedFeatureError)
        // Refused when the handle is made, or at the latest when the broker is asked to make the queue.
        const declared = async () => {
          const queue = mq.queue(uniqueName('priority'), { ...h.target.queueOptions, maxPriority: 9 })
          await queue.send('x', { priority: 5 })
        }
        await expect(declared()).rejects.toBeInstanceOf(UnsupportedFeatureError)
      })
      return
    }

    it('delivers the highest waiting priority first, and one priority in the order sent', async () => {
      const mq = await h.connect()
      const queue = mq.queue<string>(uniqueName('priority'), { ...h.target.queueOptions, maxPriority: 9 })
      const backlog: Array<[string, number | undefined]> = [
        ['low-1', 1],
        ['mid-1', 5],
        ['none-1', undefined],
        ['high-1', 8],
        ['low-2', 1],
        ['mid-2', 5],
        ['high-2', 8],
        ['none-2', undefined],
        ['mid-3', 5],
      ]
      for (const [body, priority] of backlog) await queue.send(body, priority === undefined ? {} : { priority })
      const seen = new Collector<string>()
      await queue.consume(seen.handler, { concurrency: 1 }).ready
      await seen.waitForCount(backlog.length, h.ms(15_000))
      expect(seen.bodies).toEqual(['high-1', 'high-2', 'mid-1', 'mid-2', 'mid-3', 'low-1', 'low-2', 'none-1', 'none-2'])
    })

    it('lets a higher priority sent later overtake messages still waiting', async () => {
      const mq = await h.connect()
      const queue = mq.queue<string>(uniqueName('priority-live'), { ...h.target.queueOptions, maxPriority: 9 })
      const { seen, holding, release } = await consumerHoldingFirst(queue)
      await queue.send('first')
      await holding
      // The consumer is busy with 'first' and holds nothing else, so these three wait in the queue.
      await queue.send('low-1', { priority: 1 })
      await queue.send('low-2', { priority: 1 })
      await queue.send('urgent', { priority: 9 })
      release()
      await seen.waitForCount(4, h.ms(15_000))
      expect(seen.bodies).toEqual(['first', 'urgent', 'low-1', 'low-2'])
    })

    it('counts a priority above maxPriority as maxPriority', async () => {
      const mq = await h.connect()
      const queue = mq.queue<string>(uniqueName('priority-cap'), { ...h.target.queueOptions, maxPriority: 3 })
      await queue.send('at-max', { priority: 3 })
      await queue.send('above-max', { priority: 9 })
      await queue.send('below', { priority: 2 })
      const seen = new Collector<string>()
      await queue.consume(seen.handler, { concurrency: 1 }).ready
      await seen.waitForCount(3, h.ms(15_000))
      expect(seen.bodies).toEqual(['at-max', 'above-max', 'below'])
    })

    it('retries and dead-letters the messages of a priority queue like any other', async () => {
      const mq = await h.connect()
      const queue = mq.queue<string>(uniqueName('priority-retry'), {
        ...h.target.queueOptions,
        maxPriority: 9,
        retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 10 } },
      })
      const seen = new Collector<string>()
      await queue.consume((message) => {
        seen.add(message)
        if (message.body === 'poison') throw new Error('cannot handle it')
      }).ready
      await queue.send('poison', { priority: 7 })
      await queue.send('fine', { priority: 2 })
      const dead = queue.deadLetters()
      await waitUntil(async () => (await dead.peek(10)).length >= 1, h.ms(20_000), 'the poison message to be dead-lettered')
      await seen.waitForCount(3, h.ms(15_000))
      expect(seen.items.filter((message) => message.body === 'poison').map((message) => message.attempt)).toEqual([1, 2])
      expect(seen.items.filter((message) => message.body === 'fine')).toHaveLength(1)
      expect((await dead.peek(10)).map((letter) => letter.body)).toEqual(['poison'])
    })

    if (h.capabilities.priorityQueues === 'declared') {
      it('refuses a priority on a queue made without maxPriority, with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        await expect(mq.queue(uniqueName('priority-undeclared'), h.target.queueOptions).send('x', { priority: 5 })).rejects.toBeInstanceOf(
          UnsupportedFeatureError,
        )
      })
    } else {
      it('honours a priority on a queue made without maxPriority', async () => {
        const mq = await h.connect()
        const queue = mq.queue<string>(uniqueName('priority-any'), h.target.queueOptions)
        await queue.sendBatch(['low-1', 'low-2', 'low-3'], { priority: 1 })
        await queue.send('high', { priority: 8 })
        const seen = new Collector<string>()
        await queue.consume(seen.handler, { concurrency: 1 }).ready
        await seen.waitForCount(4, h.ms(10_000))
        expect(seen.bodies).toEqual(['high', 'low-1', 'low-2', 'low-3'])
      })
    }
  })
}
