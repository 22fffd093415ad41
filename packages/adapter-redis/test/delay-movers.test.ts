import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { connect, transportOf } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

/** The scripts the connection's command client runs while `during` runs. */
async function scriptCalls(mq: object, during: () => Promise<void>): Promise<number> {
  const commands = (transportOf(mq as never) as unknown as { commands: { call(args: unknown[], options?: unknown): Promise<unknown> } }).commands
  const call = commands.call.bind(commands)
  let calls = 0
  commands.call = (args, options) => {
    if (args[0] === 'EVALSHA' || args[0] === 'EVAL') calls++
    return call(args, options)
  }
  try {
    await during()
  } finally {
    commands.call = call
  }
  return calls
}

describe.skipIf(!url).each(drivers)('redis delay movers, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', (driver) => {
  const adapterUrl = withDriver(url ?? 'redis://unset', driver)
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
  })

  it('moves the delay sets of every queue of a connection with one script call per poll, and each set gets its messages', async () => {
    const mq = await connect(`${adapterUrl}${adapterUrl.includes('?') ? '&' : '?'}delayPollMs=100`, { adapter })
    open.push(mq)
    const queues = Array.from({ length: 8 }, (_, i) => mq.queue<number>(uniqueName(`movers-${i}`)))
    const seen = new Collector<number>()
    for (const queue of queues) await queue.consume(seen.handler).ready

    // Idle: a second of polls at 100 ms. One call per set and poll was 8 × 10 = 80 of them.
    const idleCalls = await scriptCalls(mq, () => new Promise((resolve) => setTimeout(resolve, 1_000)))
    expect(idleCalls).toBeLessThanOrEqual(30)

    await Promise.all(queues.map((queue, i) => queue.send(i, { delayMs: 300 })))
    await seen.waitForCount(8, 10_000)
    expect(seen.items.map((message) => message.body).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
  })
})
