import type { Anymq } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestBroker } from '../src/index.js'

const open: Anymq[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((mq) => mq.close()))
})

// The test broker is memory://, whose capabilities declare every admin call: a test of code that
// reads depths or fixes dead letters must be able to make those calls on it, chaos or not.
describe.each([
  ['plain', undefined],
  ['chaos', { seed: 7, redeliver: 0 }],
])('admin calls on a %s test broker', (_mode, chaos) => {
  it('serves stats, list, purge and dead letters by id, as its capabilities declare', async () => {
    const broker = createTestBroker(chaos ? { chaos } : {})
    const mq = await broker.connect()
    open.push(mq)
    expect(mq.capabilities.admin).toMatchObject({ stats: true, purge: true, list: true, deadLetterById: true })
    const orders = mq.queue<number>('orders', { retry: false, deadLetter: 'orders.dlq' })
    await orders.send(1)
    await orders.send(2)
    expect(await orders.stats()).toMatchObject({ name: 'orders', ready: 2, inFlight: 0 })
    expect((await mq.list()).map((entry) => entry.name)).toContain('orders')

    await orders.consume(async (message) => {
      if (message.body === 1) throw new Error('refused')
    }).ready
    await broker.until('orders').received(2)
    const [dead] = await orders.deadLetters().peek(10)
    expect(dead?.body).toBe(1)
    expect(await orders.deadLetters().deleteOne(dead!.id)).toBe(true)
    expect((await orders.stats()).deadLettered).toBe(0)

    const idle = mq.queue<number>('idle')
    await idle.send(3)
    await idle.purge()
    expect((await idle.stats()).ready).toBe(0)
  })
})
