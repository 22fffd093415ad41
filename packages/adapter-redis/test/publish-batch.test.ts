import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { connect, PublishError } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { redisCli } from './broker.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

// A batch is one MULTI/EXEC, or one script on ioredis: every entry in the order given, all or none.
describe.skipIf(!url).each(drivers)('redis sendBatch into one stream, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', (driver) => {
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
  })

  it('writes every entry in the order given', async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const name = uniqueName('batch-order')
    const queue = mq.queue<number>(name)
    const sent = Array.from({ length: 150 }, (_, index) => index)
    await queue.sendBatch(sent.slice(0, 100))
    await queue.sendBatch(sent.slice(100))
    const stream = `anymq:q:${name}`
    const lines = await redisCli(url as string, 'XRANGE', stream, '-', '+')
    const bodies = lines.flatMap((line, index) => (line === 'body' ? [Number(lines[index + 1])] : []))
    expect(bodies).toEqual(sent)
    await redisCli(url as string, 'DEL', stream)
  })

  it('writes a batch entry as a single send writes it: the two fields, read back with id, key and headers', async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const name = uniqueName('batch-shape')
    const queue = mq.queue<number>(name)
    const { ids } = await queue.sendBatch([1, 2, 3], (body) => ({ key: `key-${body}`, headers: { tenant: `tenant-${body}` } }))
    const stream = `anymq:q:${name}`
    const lines = await redisCli(url as string, 'XRANGE', stream, '-', '+')
    expect(lines.filter((line) => line === 'body' || line === 'anymq')).toEqual(['body', 'anymq', 'body', 'anymq', 'body', 'anymq'])
    const seen = new Collector<number>()
    await queue.consume(seen.handler).ready
    await seen.waitForCount(3, 10_000)
    expect(seen.items.map((message) => [message.body, message.id, message.key, message.headers.tenant])).toEqual(
      [1, 2, 3].map((body, index) => [body, ids[index], `key-${body}`, `tenant-${body}`]),
    )
  })

  it('writes every entry of a batch sent after Redis forgot its scripts', async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const name = uniqueName('batch-flushed')
    const queue = mq.queue<number>(name)
    await queue.sendBatch([1, 2])
    await redisCli(url as string, 'SCRIPT', 'FLUSH')
    await queue.sendBatch([3, 4])
    const stream = `anymq:q:${name}`
    const lines = await redisCli(url as string, 'XRANGE', stream, '-', '+')
    expect(lines.flatMap((line, index) => (line === 'body' ? [Number(lines[index + 1])] : []))).toEqual([1, 2, 3, 4])
    await redisCli(url as string, 'DEL', stream)
  })

  it('writes an entry with thousands of headers beside a plain one', async () => {
    const mq = await connect(`${withDriver(url as string, driver)}&wireLayout=fields`, { adapter })
    open.push(mq)
    const name = uniqueName('batch-wide')
    const headers = Object.fromEntries(Array.from({ length: 4000 }, (_, index) => [`h${index}`, String(index)]))
    await mq.queue<number>(name).sendBatch([1, 2], (body) => (body === 2 ? { headers } : {}))
    const stream = `anymq:q:${name}`
    const lines = await redisCli(url as string, 'XRANGE', stream, '-', '+')
    expect(lines.flatMap((line, index) => (line === 'body' ? [Number(lines[index + 1])] : []))).toEqual([1, 2])
    expect(lines.filter((line) => line.startsWith('h:h')).length).toBe(4000)
    await redisCli(url as string, 'DEL', stream)
  })

  it('writes none of a batch when its stream cannot take it, and says so', async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const name = uniqueName('batch-refused')
    const stream = `anymq:q:${name}`
    await redisCli(url as string, 'SET', stream, 'not a stream')
    const failure = await mq
      .queue<number>(name)
      .sendBatch([1, 2, 3])
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(PublishError)
    expect((failure as PublishError).isRetryable).toBe(false)
    expect((failure as Error).message).toMatch(/WRONGTYPE/)
    expect(await redisCli(url as string, 'GET', stream)).toEqual(['not a stream'])
    await redisCli(url as string, 'DEL', stream)
  })
})
