import { Unrecoverable } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, type Harness, uniqueName } from '../harness.js'
import { orderSchema } from './round-trip.js'

export function retryCases(h: Harness): void {
  describe('retry and dead letter', () => {
    it('retries a failing message with backoff until it succeeds', async () => {
      const mq = await h.connect()
      const queue = mq.queue<string>(uniqueName('retry'), {
        ...h.target.queueOptions,
        retry: {
          maxAttempts: 5,
          backoff: { type: 'fixed', delayMs: 300, jitter: false },
        },
      })
      const attempts: Array<{ attempt: number; at: number }> = []
      const done = new Collector<string>()
      await queue.consume((message) => {
        attempts.push({ attempt: message.attempt, at: Date.now() })
        if (message.attempt < 3) throw new Error(`fail ${message.attempt}`)
        done.add(message)
      }).ready
      await queue.send('flaky')
      await done.waitForCount(1, h.ms(20_000))
      expect(attempts.map((entry) => entry.attempt)).toEqual([1, 2, 3])
      for (let index = 1; index < attempts.length; index++) {
        expect((attempts[index]?.at ?? 0) - (attempts[index - 1]?.at ?? 0)).toBeGreaterThanOrEqual(250)
      }
    })

    it('does not hold back the messages behind a message waiting for its retry', async () => {
      const mq = await h.connect()
      const queue = mq.queue<string>(uniqueName('nonblocking'), {
        ...h.target.queueOptions,
        retry: {
          maxAttempts: 3,
          backoff: { type: 'fixed', delayMs: 3000, jitter: false },
        },
      })
      const order: string[] = []
      const done = new Collector<string>()
      await queue.consume((message) => {
        order.push(`${message.body}#${message.attempt}`)
        if (message.body === 'first' && message.attempt === 1) throw new Error('try later')
        done.add(message)
      }).ready
      await queue.send('first', { key: 'k' })
      await queue.send('second', { key: 'k' })
      await done.waitForCount(2, h.ms(30_000))
      expect(order).toEqual(['first#1', 'second#1', 'first#2'])
    })

    it('dead-letters after maxAttempts with the error, attempts and failure times recorded', async () => {
      const mq = await h.connect()
      const name = uniqueName('dlq')
      const queue = mq.queue<{ n: number }>(name, {
        ...h.target.queueOptions,
        retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 50 } },
      })
      let calls = 0
      const sub = queue.consume(() => {
        calls++
        throw new Error('payment service down')
      })
      await sub.ready
      const before = Date.now()
      await queue.send({ n: 1 }, { headers: { tenant: 'acme' }, key: 'k1' })
      const dead = queue.deadLetters()
      await waitUntil(async () => (await dead.peek(10)).length >= 1, h.ms(20_000), 'a dead letter to appear')
      const [letter] = await dead.peek(10)
      expect(calls).toBe(3)
      expect(letter?.body).toEqual({ n: 1 })
      expect(letter?.headers).toEqual({ tenant: 'acme' })
      expect(letter?.key).toBe('k1')
      expect(letter?.error.message).toBe('payment service down')
      expect(letter?.attempts).toBe(3)
      expect(letter?.source).toBe(name)
      expect(letter?.firstFailureAt?.getTime()).toBeGreaterThanOrEqual(before - 1000)
      expect(letter?.lastFailureAt?.getTime()).toBeGreaterThanOrEqual(letter?.firstFailureAt?.getTime() ?? 0)
      expect(dead.name).toBe(`${name}.dlq`)
    })

    it('redrives dead letters back to their queue as fresh messages', async () => {
      const mq = await h.connect()
      const name = uniqueName('redrive')
      const queue = mq.queue<number>(name, {
        ...h.target.queueOptions,
        retry: { maxAttempts: 1 },
      })
      let broken = true
      const done = new Collector<number>()
      await queue.consume((message) => {
        if (broken) throw new Error('bug')
        done.add(message)
      }).ready
      await queue.sendBatch([1, 2, 3])
      const dead = queue.deadLetters()
      await waitUntil(async () => (await dead.peek(10)).length >= 3, h.ms(20_000), 'three dead letters')
      broken = false
      expect(await dead.redrive()).toBe(3)
      await done.waitForCount(3, h.ms(20_000))
      expect(done.bodies.sort()).toEqual([1, 2, 3])
      expect(done.items.every((message) => message.attempt === 1)).toBe(true)
      expect(await dead.peek(10)).toEqual([])
    })

    it('dead-letters at once when the handler throws Unrecoverable', async () => {
      const mq = await h.connect()
      const queue = mq.queue<string>(uniqueName('unrecoverable'), {
        ...h.target.queueOptions,
        retry: { maxAttempts: 5, backoff: { type: 'fixed', delayMs: 10 } },
      })
      let calls = 0
      await queue.consume(() => {
        calls++
        throw new Unrecoverable('order references a deleted customer')
      }).ready
      await queue.send('poison')
      const dead = queue.deadLetters()
      await waitUntil(async () => (await dead.peek(1)).length === 1, h.ms(20_000), 'the dead letter')
      const [letter] = await dead.peek(1)
      expect(calls).toBe(1)
      expect(letter?.attempts).toBe(1)
      expect(letter?.error).toEqual({
        name: 'Unrecoverable',
        message: 'order references a deleted customer',
      })
    })

    it('dead-letters at once a message that fails its schema on receive', async () => {
      const mq = await h.connect()
      const name = uniqueName('schema-receive')
      let calls = 0
      const strict = mq.queue(name, {
        ...h.target.queueOptions,
        schema: orderSchema,
      })
      await strict.consume(() => {
        calls++
      }).ready
      await mq.queue(name, h.target.queueOptions).send({ orderId: 7 })
      const dead = strict.deadLetters()
      await waitUntil(async () => (await dead.peek(1)).length === 1, h.ms(20_000), 'the dead letter')
      const [letter] = await dead.peek(1)
      expect(calls).toBe(0)
      expect(letter?.error.name).toBe('ERR_VALIDATION')
      expect(letter?.error.message).toContain('orderId')
      expect(letter?.body).toEqual({ orderId: 7 })
    })

    it('dead-letters at once a body the codec cannot decode', async () => {
      const mq = await h.connect()
      const name = uniqueName('undecodable')
      const json = mq.queue(name, h.target.queueOptions)
      await json.consume(() => {}).ready
      await mq.queue<Uint8Array>(name, { ...h.target.queueOptions, codec: 'raw' }).send(new TextEncoder().encode('{not json'))
      const dead = json.deadLetters()
      await waitUntil(async () => (await dead.peek(1)).length === 1, h.ms(20_000), 'the dead letter')
      const [letter] = await dead.peek(1)
      expect(letter?.error.name).toBe('ERR_SERIALIZATION')
      expect(letter?.body).toBeUndefined()
      expect(new TextDecoder().decode(letter?.rawBody)).toBe('{not json')
    })

    it('retries, dead-letters and redrives one subscription without touching the others', async () => {
      const mq = await h.connect()
      const topic = mq.topic<string>(uniqueName('subdlq'), {
        retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 50 } },
      })
      let broken = true
      const [billing, audit] = [new Collector<string>(), new Collector<string>()]
      await Promise.all([
        topic.subscribe('billing', (message) => {
          if (broken) throw new Error('billing down')
          billing.add(message)
        }).ready,
        topic.subscribe('audit', audit.handler).ready,
      ])
      await topic.publish('invoice-1')
      const dead = topic.deadLetters('billing')
      await waitUntil(async () => (await dead.peek(5)).length === 1, h.ms(20_000), 'the billing dead letter')
      await audit.waitForCount(1, h.ms(10_000))
      broken = false
      expect(await dead.redrive()).toBe(1)
      await billing.waitForCount(1, h.ms(20_000))
      await topic.publish('marker')
      await audit.waitForCount(2, h.ms(10_000))
      expect(audit.bodies).toEqual(['invoice-1', 'marker'])
      expect(billing.bodies[0]).toBe('invoice-1')
    })
  })
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let wait = 20
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, wait))
    wait = Math.min(500, wait * 2)
  }
}
