import { brokerUrl, Collector, describeForeignMessages, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { redisCli } from './broker.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

describe.skipIf(!url).each(drivers)('redis interop with redis-cli, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', (driver) => {
  // The body runs to collect tests even when the suite is skipped: no URL must not throw here.
  const redisUrl = url ?? 'redis://unset'
  const adapterUrl = withDriver(redisUrl, driver)
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
  })

  it('consumes an entry that redis-cli XADDed to a queue stream', async () => {
    const mq = await connect(adapterUrl, { adapter })
    open.push(mq)
    const name = uniqueName('cli-in')
    const seen = new Collector<{ sku: string; quantity: number }>()
    await mq.queue<{ sku: string; quantity: number }>(name).consume(seen.handler).ready
    const [entryId] = await redisCli(
      redisUrl,
      'XADD',
      `anymq:q:${name}`,
      '*',
      'body',
      '{"sku":"A-1","quantity":3}',
      'content-type',
      'application/json',
      'key',
      'customer-9',
      'correlation-id',
      'corr-9',
      'h:tenant',
      'acme',
      'region',
      'eu',
    )
    await seen.waitForCount(1, 10_000)
    const message = seen.items[0]
    expect(message?.body).toEqual({ sku: 'A-1', quantity: 3 })
    expect(message?.id).toBe(entryId)
    expect(message?.key).toBe('customer-9')
    expect(message?.correlationId).toBe('corr-9')
    expect(message?.headers).toEqual({ tenant: 'acme', region: 'eu' })
    expect(message?.attempt).toBe(1)
    expect(message?.timestamp.getTime()).toBe(Number(entryId?.split('-')[0]))
  })

  it('delivers an entry that redis-cli XADDed to a topic stream to every subscription', async () => {
    const mq = await connect(adapterUrl, { adapter })
    open.push(mq)
    const topic = mq.topic<string>(uniqueName('cli-topic'), { codec: 'text' })
    const [first, second] = [new Collector<string>(), new Collector<string>()]
    await Promise.all([topic.subscribe('first', first.handler).ready, topic.subscribe('second', second.handler).ready])
    await redisCli(redisUrl, 'XADD', `anymq:t:${topic.name}`, '*', 'body', 'plain text from redis-cli', 'subject', 'orders.eu.created')
    await Promise.all([first.waitForCount(1, 10_000), second.waitForCount(1, 10_000)])
    expect([first.bodies, second.bodies]).toEqual([['plain text from redis-cli'], ['plain text from redis-cli']])
    expect(first.items[0]?.subject).toBe('orders.eu.created')
  })

  it('writes entries that redis-cli XRANGE reads with every property intact: body, and the anymq field as JSON', async () => {
    const mq = await connect(adapterUrl, { adapter })
    open.push(mq)
    const name = uniqueName('cli-out')
    const before = Date.now()
    await mq
      .queue<{ order: number }>(name)
      .send({ order: 42 }, { id: 'order-42', key: 'customer-1', correlationId: 'corr-42', replyTo: 'replies', headers: { tenant: 'acme', 'trace-id': 't-1' } })
    const lines = await redisCli(redisUrl, 'XRANGE', `anymq:q:${name}`, '-', '+')
    expect(lines[0]).toMatch(/^\d+-\d+$/)
    expect(lines.slice(1, 4).filter((_, index) => index % 2 === 0)).toEqual(['body', 'anymq'])
    expect(lines[2]).toBe('{"order":42}')
    const properties = JSON.parse(lines[4] as string)
    expect(properties).toMatchObject({
      id: 'order-42',
      contentType: 'application/json',
      key: 'customer-1',
      correlationId: 'corr-42',
      replyTo: 'replies',
      headers: { tenant: 'acme', 'trace-id': 't-1' },
    })
    expect(properties.timestamp).toBeGreaterThanOrEqual(before)
    expect(properties.timestamp).toBeLessThanOrEqual(Date.now())
    await redisCli(redisUrl, 'DEL', `anymq:q:${name}`)
  })

  it('writes one field per property with ?wireLayout=fields, as older anymq versions read them', async () => {
    const mq = await connect(`${adapterUrl}&wireLayout=fields`, { adapter })
    open.push(mq)
    const name = uniqueName('cli-fields')
    const before = Date.now()
    await mq
      .queue<{ order: number }>(name)
      .send({ order: 42 }, { id: 'order-42', key: 'customer-1', correlationId: 'corr-42', replyTo: 'replies', headers: { tenant: 'acme', 'trace-id': 't-1' } })
    const lines = await redisCli(redisUrl, 'XRANGE', `anymq:q:${name}`, '-', '+')
    const fields: Record<string, string> = {}
    for (let index = 1; index + 1 < lines.length; index += 2) fields[lines[index] as string] = lines[index + 1] as string
    expect(fields).toMatchObject({
      id: 'order-42',
      body: '{"order":42}',
      'content-type': 'application/json',
      key: 'customer-1',
      'correlation-id': 'corr-42',
      'reply-to': 'replies',
      'h:tenant': 'acme',
      'h:trace-id': 't-1',
    })
    expect(fields.anymq).toBeUndefined()
    expect(Number(fields.timestamp)).toBeGreaterThanOrEqual(before)
    await redisCli(redisUrl, 'DEL', `anymq:q:${name}`)
  })

  it('consumes entries in the layout of one field per property (written by an older anymq) with nothing lost', async () => {
    const mq = await connect(adapterUrl, { adapter })
    open.push(mq)
    const queue = mq.queue<{ order: number }>(uniqueName('cli-old-layout'))
    await redisCli(
      redisUrl,
      'XADD',
      `anymq:q:${queue.name}`,
      '*',
      'id',
      'order-7',
      'body',
      '{"order":7}',
      'content-type',
      'application/json',
      'timestamp',
      '1700000000000',
      'key',
      'customer-7',
      'correlation-id',
      'corr-7',
      'reply-to',
      'replies',
      'subject',
      'orders.eu',
      'h:tenant',
      'acme',
      'h:x-anymq-attempt',
      '2',
    )
    const seen = new Collector<{ order: number }>()
    await queue.consume(seen.handler).ready
    await seen.waitForCount(1, 10_000)
    expect(seen.items[0]).toMatchObject({
      id: 'order-7',
      body: { order: 7 },
      timestamp: new Date(1_700_000_000_000),
      key: 'customer-7',
      correlationId: 'corr-7',
      replyTo: 'replies',
      subject: 'orders.eu',
      attempt: 2,
    })
    expect(seen.items[0]?.headers).toMatchObject({ tenant: 'acme' })
  })

  it('keeps a delayed message in a sorted set that redis-cli can inspect, and delivers it when due', async () => {
    const mq = await connect(adapterUrl, { adapter })
    open.push(mq)
    const queue = mq.queue<string>(uniqueName('cli-delayed'), { codec: 'text' })
    await queue.send('later', { delayMs: 60_000 })
    expect(await redisCli(redisUrl, 'ZCARD', `anymq:q:${queue.name}:delayed`)).toEqual(['1'])
    expect(await redisCli(redisUrl, 'XLEN', `anymq:q:${queue.name}`)).toEqual(['0'])
    // Make it due now, as an operator would, and let a consumer's mover deliver it.
    await redisCli(
      redisUrl,
      'EVAL',
      "for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do redis.call('ZADD', KEYS[1], 0, m) end",
      '1',
      `anymq:q:${queue.name}:delayed`,
    )
    const seen = new Collector<string>()
    await queue.consume(seen.handler).ready
    await seen.waitForCount(1, 10_000)
    expect(seen.bodies).toEqual(['later'])
    expect(await redisCli(redisUrl, 'ZCARD', `anymq:q:${queue.name}:delayed`)).toEqual(['0'])
  })
})

describe.skipIf(!url)(`redis foreign messages from redis-cli${!url ? ' (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)' : ''}`, () => {
  describeForeignMessages({
    name: 'redis (redis-cli XADD)',
    connect: () => connect(url as string, { adapter }),
    inject: async (queue, malformed, foreign) => {
      await redisCli(url as string, 'XADD', `anymq:q:${queue}`, '*', 'body', malformed.body)
      const fields = Object.entries(foreign.headers).flatMap(([name, value]) => [`h:${name}`, value])
      // and wire fields of anymq's own with values it never writes
      await redisCli(url as string, 'XADD', `anymq:q:${queue}`, '*', 'body', foreign.body, 'attempt', 'many', 'timestamp', 'x', ...fields)
    },
  })
})
