import type { Anymq } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestBroker, spy, UntilTimeoutError } from '../src/index.js'

const open: Anymq[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((mq) => mq.close()))
})

describe('until, sent and spy', () => {
  it('waits until a queue handled n messages, records sends, and spies on the handler', async () => {
    const broker = createTestBroker()
    const mq = await broker.connect()
    open.push(mq)
    const orders = mq.queue<{ id: number }>('orders')
    const handler = spy<{ id: number }>(async (message) => {
      if (message.body.id === 2 && message.attempt === 1) throw new Error('flaky')
    })
    await orders.consume(handler, { concurrency: 2 }).ready
    for (const id of [1, 2, 3]) await orders.send({ id }, { headers: { tenant: 'acme' } })

    await broker.until(orders).received(4)
    expect(broker.sent('orders').map((message) => message.body)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }])
    expect(broker.sent('orders')[0]?.headers.tenant).toBe('acme')
    expect(handler.calls.map((body) => body.id).sort()).toEqual([1, 2, 2, 3])
    expect(handler.errors).toHaveLength(1)
    expect(await broker.until('orders').matching<{ id: number }>((body) => body.id === 3)).toEqual({ id: 3 })
  })

  it('rejects with UntilTimeoutError when the count never comes', async () => {
    const broker = createTestBroker()
    const mq = await broker.connect()
    open.push(mq)
    const orders = mq.queue('idle')
    await orders.consume(async () => {}).ready
    await orders.send('only one')
    const error = await broker
      .until('idle')
      .received(2, { timeoutMs: 200 })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UntilTimeoutError)
    expect((error as UntilTimeoutError).code).toBe('ERR_UNTIL_TIMEOUT')
  })

  it('chaos failSends rejects sends with a retryable PublishError, and the same seed fails the same sends', async () => {
    const failures = async () => {
      const broker = createTestBroker({ chaos: { seed: 3, failSends: 0.3 } })
      const mq = await broker.connect()
      open.push(mq)
      const queue = mq.queue<number>('maybe')
      const failed: number[] = []
      for (let index = 0; index < 20; index++) await queue.send(index).catch(() => failed.push(index))
      expect(broker.sent('maybe')).toHaveLength(20 - failed.length)
      return failed
    }
    const first = await failures()
    expect(first.length).toBeGreaterThan(0)
    expect(first.length).toBeLessThan(20)
    expect(await failures()).toEqual(first)
  })
})

describe('chaos delays', () => {
  it('reorder messages of different keys and keep the order of one key', async () => {
    const broker = createTestBroker({ chaos: { seed: 5, maxDelayMs: 40 } })
    const mq = await broker.connect()
    open.push(mq)
    const queue = mq.queue<{ key: string; n: number }>('mixed', { ordered: true })
    const received: { key: string; n: number }[] = []
    await queue.consume(async (message) => void received.push(message.body)).ready
    const sent = Array.from({ length: 20 }, (_, n) => ({ key: n % 2 === 0 ? 'a' : 'b', n }))
    await Promise.all(sent.map((body) => queue.send(body, { key: body.key })))
    await broker.until('mixed').received(sent.length)
    expect(received.map((body) => body.n)).not.toEqual(sent.map((body) => body.n))
    for (const key of ['a', 'b']) {
      const ofKey = received.filter((body) => body.key === key).map((body) => body.n)
      expect(ofKey).toEqual([...ofKey].sort((left, right) => left - right))
    }
  })
})
