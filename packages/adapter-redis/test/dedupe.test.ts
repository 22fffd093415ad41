import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { connect, PublishError } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { redisCli } from './broker.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')
const cli = (...args: string[]) => redisCli(url as string, ...args)

// `dedupeId` (queue sends): a marker key per id and queue, checked and set by the script that writes the
// message, for the window of the capability (5 min).
describe.skipIf(!url).each(drivers)('redis dedupeId, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', (driver) => {
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
  })
  const connectNow = async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    return mq
  }

  it('drops a repeat on every path of a queue: sends, delayed sends, a batch (within it too); other ids pass', async () => {
    const mq = await connectNow()
    expect(mq.capabilities.dedupe).toEqual({ windowMs: 300_000 })
    const name = uniqueName('dedupe-queue')
    const queue = mq.queue<string>(name)
    await queue.send('first', { dedupeId: 'a' })
    await queue.send('repeat', { dedupeId: 'a' })
    await queue.send('delayed repeat', { dedupeId: 'a', delayMs: 60_000 })
    await queue.send('other', { dedupeId: 'b' })
    await queue.sendBatch(['b again', 'c', 'c again', 'no id'], (body) => (body === 'no id' ? {} : { dedupeId: body.slice(0, 1) }))
    expect(await cli('XLEN', `anymq:q:${name}`)).toEqual(['4'])
    expect(await cli('ZCARD', `anymq:q:${name}:delayed`)).toEqual(['0'])
    const ttl = Number((await cli('PTTL', `anymq:q:${name}:dedupe:a`))[0])
    expect(ttl).toBeGreaterThan(250_000)
    expect(ttl).toBeLessThanOrEqual(300_000)

    const seen = new Collector<string>()
    await queue.consume(seen.handler).ready
    await seen.waitForCount(4, 10_000)
    expect(seen.bodies).toEqual(['first', 'other', 'c', 'no id'])
  })

  it('drops a plain send that repeats a delayed one, and a repeat on a priority queue', async () => {
    const mq = await connectNow()
    const delayed = uniqueName('dedupe-delayed')
    await mq.queue<string>(delayed).send('later', { dedupeId: 'd', delayMs: 60_000 })
    await mq.queue<string>(delayed).send('now', { dedupeId: 'd' })
    expect(await cli('ZCARD', `anymq:q:${delayed}:delayed`)).toEqual(['1'])
    expect(await cli('EXISTS', `anymq:q:${delayed}`)).toEqual(['0'])

    const prioritised = uniqueName('dedupe-priority')
    const queue = mq.queue<string>(prioritised, { maxPriority: 3 })
    await queue.send('high', { dedupeId: 'p', priority: 3 })
    await queue.send('high again', { dedupeId: 'p', priority: 1 })
    await queue.send('low', { dedupeId: 'q', priority: 1 })
    expect(await cli('ZCARD', `anymq:q:${prioritised}:waiting`)).toEqual(['2'])
    const seen = new Collector<string>()
    await queue.consume(seen.handler).ready
    await seen.waitForCount(2, 10_000)
    expect(seen.bodies).toEqual(['high', 'low'])
  })

  it('leaves no marker when the write fails, so the send can be retried', async () => {
    const mq = await connectNow()
    const name = uniqueName('dedupe-failed')
    const queue = mq.queue<string>(name)
    await cli('SET', `anymq:q:${name}`, 'not a stream')
    await expect(queue.send('refused', { dedupeId: 'r' })).rejects.toBeInstanceOf(PublishError)
    expect(await cli('EXISTS', `anymq:q:${name}:dedupe:r`)).toEqual(['0'])
    await cli('DEL', `anymq:q:${name}`)
    await queue.send('retried', { dedupeId: 'r' })
    expect(await cli('XLEN', `anymq:q:${name}`)).toEqual(['1'])
  })

  it('forgets the markers of a deleted queue: a queue made again under its name takes the id again', async () => {
    const mq = await connectNow()
    const name = uniqueName('dedupe-deleted')
    await mq.queue<string>(name).send('before', { dedupeId: 'g' })
    await mq.queue<string>(name).delete()
    expect(await cli('EXISTS', `anymq:q:${name}:dedupe:g`)).toEqual(['0'])
    await mq.queue<string>(name).send('after', { dedupeId: 'g' })
    expect(await cli('XLEN', `anymq:q:${name}`)).toEqual(['1'])
  })
})
