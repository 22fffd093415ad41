import { brokerUrl, Collector, consumerHoldingFirst, deferred, uniqueName } from '@anymq/conformance'
import { connect, transportOf } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { redisCli } from './broker.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

/** Polls a Redis reading until `check` holds; rejects after `timeoutMs` with the last value. */
async function until(read: () => Promise<string>, check: (value: string) => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let value = await read()
  while (!check(value)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${value} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    value = await read()
  }
}

describe.skipIf(!url).each(drivers)('redis priority queues, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', (driver) => {
  // The body runs to collect tests even when the suite is skipped: no URL must not throw here.
  const redisUrl = url ?? 'redis://unset'
  const adapterUrl = withDriver(redisUrl, driver)
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
  })

  /** Entries of the stream, bindings and waiting messages of one queue: all 0 once everything was acked. */
  async function leftovers(name: string): Promise<string> {
    const stream = `anymq:q:${name}`
    const [entries] = await redisCli(redisUrl, 'XLEN', stream)
    const [bound] = await redisCli(redisUrl, 'HLEN', `${stream}:taken`)
    const [waiting] = await redisCli(redisUrl, 'ZCARD', `${stream}:waiting`)
    return `${entries}/${bound}/${waiting}`
  }

  it("gives the message of a crashed consumer's turn to the next consumer with attempt 2, and leaves nothing behind", async () => {
    const name = uniqueName('priority-crash')
    const doomed = await connect(adapterUrl, { adapter })
    const sender = doomed.queue<string>(name, { maxPriority: 9 })
    await sender.send('low-1', { priority: 1 })
    await sender.send('high', { priority: 9 })
    await sender.send('low-2', { priority: 1 })
    const holding = deferred<string>()
    await doomed.queue<string>(name, { maxPriority: 9 }).consume(
      async (message) => {
        holding.resolve(message.body)
        await new Promise(() => {})
      },
      { leaseMs: 1000, concurrency: 1, prefetch: 1 },
    ).ready
    expect(await holding.promise).toBe('high')
    await transportOf(doomed).terminate()
    const rescuer = await connect(adapterUrl, { adapter })
    open.push(rescuer)
    const seen = new Collector<string>()
    await rescuer.queue<string>(name, { maxPriority: 9 }).consume(seen.handler, { leaseMs: 1000, concurrency: 1 }).ready
    await seen.waitForCount(3, 20_000)
    expect(Object.fromEntries(seen.items.map((message) => [message.body, message.attempt]))).toEqual({ high: 2, 'low-1': 1, 'low-2': 1 })
    expect(seen.bodies.filter((body) => body !== 'high')).toEqual(['low-1', 'low-2'])
    await until(
      () => leftovers(name),
      (value) => value === '0/0/0',
      10_000,
      'stream entries / bindings / waiting messages',
    )
  })

  it('gives the turns a closing consumer never started back with their messages, attempt unchanged', async () => {
    const name = uniqueName('priority-release')
    const first = await connect(adapterUrl, { adapter })
    open.push(first)
    const queue = first.queue<string>(name, { maxPriority: 9 })
    await queue.send('d', { priority: 0 })
    await queue.send('c', { priority: 1 })
    await queue.send('b', { priority: 5 })
    await queue.send('a', { priority: 9 })
    const early = new Collector<string>()
    const holding = deferred()
    const gate = deferred()
    const subscription = queue.consume(
      async (message) => {
        early.add(message)
        holding.resolve()
        await gate.promise
      },
      { concurrency: 1, prefetch: 3 },
    )
    await holding.promise
    const closing = subscription.close()
    gate.resolve()
    await closing
    expect(early.bodies).toEqual(['a'])
    const second = await connect(adapterUrl, { adapter })
    open.push(second)
    const late = new Collector<string>()
    await second.queue<string>(name, { maxPriority: 9 }).consume(late.handler, { concurrency: 1 }).ready
    await late.waitForCount(3, 15_000)
    expect(late.items.map((message) => [message.body, message.attempt])).toEqual([
      ['b', 1],
      ['c', 1],
      ['d', 1],
    ])
    await until(
      () => leftovers(name),
      (value) => value === '0/0/0',
      10_000,
      'stream entries / bindings / waiting messages',
    )
  })

  it('puts a delayed message with a priority in its place by priority once it is due', async () => {
    const name = uniqueName('priority-delayed')
    const mq = await connect(adapterUrl, { adapter })
    open.push(mq)
    const queue = mq.queue<string>(name, { maxPriority: 9 })
    const { seen, holding, release } = await consumerHoldingFirst(queue)
    await queue.send('first')
    await holding
    await queue.send('low-1', { priority: 1 })
    await queue.send('delayed-high', { priority: 9, delayMs: 200 })
    await queue.send('low-2', { priority: 1 })
    await until(
      async () => (await redisCli(redisUrl, 'ZCARD', `anymq:q:${name}:waiting`))[0] as string,
      (value) => value === '3',
      10_000,
      'messages waiting',
    )
    release()
    await seen.waitForCount(4, 15_000)
    expect(seen.bodies).toEqual(['first', 'delayed-high', 'low-1', 'low-2'])
    await until(
      () => leftovers(name),
      (value) => value === '0/0/0',
      10_000,
      'stream entries / bindings / waiting messages',
    )
  })

  it('delivers the messages of a priority queue to a consumer whose handle was made without maxPriority', async () => {
    const name = uniqueName('priority-plain-reader')
    const mq = await connect(adapterUrl, { adapter })
    open.push(mq)
    await mq.queue<string>(name, { maxPriority: 9 }).send('low', { priority: 1 })
    await mq.queue<string>(name, { maxPriority: 9 }).send('high', { priority: 8 })
    const seen = new Collector<string>()
    await mq.queue<string>(name).consume(seen.handler, { concurrency: 1 }).ready
    await seen.waitForCount(2, 15_000)
    expect(seen.bodies).toEqual(['high', 'low'])
    expect(seen.items.map((message) => message.headers)).toEqual([{}, {}])
    expect(await mq.queue<string>(name, { maxPriority: 9 }).deadLetters().peek(10)).toEqual([])
  })
})
