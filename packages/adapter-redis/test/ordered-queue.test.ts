import { brokerUrl, Collector, deferred, uniqueName } from '@anymq/conformance'
import { connect, transportOf } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

describe.skipIf(!url).each(drivers)('redis ordered queues, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', (driver) => {
  const adapterUrl = withDriver(url ?? 'redis://unset', driver)
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
  })

  it('hands an ordered queue to the next consumer after the active one crashed, its unfinished entries first', async () => {
    const name = uniqueName('ordered-failover')
    const doomed = await connect(adapterUrl, { adapter })
    const holding = deferred()
    await doomed.queue<number>(name, { ordered: true }).consume(
      async () => {
        holding.resolve()
        await new Promise(() => {})
      },
      { leaseMs: 1000, concurrency: 1 },
    ).ready
    const rescuer = await connect(adapterUrl, { adapter })
    open.push(rescuer)
    const seen = new Collector<number>()
    // Attached while the doomed consumer is active: it must wait instead of competing.
    await rescuer.queue<number>(name, { ordered: true }).consume(seen.handler, { leaseMs: 1000, concurrency: 4 }).ready
    await rescuer.queue<number>(name, { ordered: true }).sendBatch(
      Array.from({ length: 10 }, (_, index) => index),
      () => ({ key: 'one-key' }),
    )
    await holding.promise
    expect(seen.items).toHaveLength(0)
    await transportOf(doomed).terminate()
    await seen.waitForCount(10, 20_000)
    expect(seen.bodies).toEqual(Array.from({ length: 10 }, (_, index) => index))
    expect(seen.items[0]?.attempt).toBe(2)
    expect(seen.items.slice(1).every((message) => message.attempt === 1)).toBe(true)
  })
})
