import { randomUUID } from 'node:crypto'
import { brokerUrl, uniqueName } from '@anymq/conformance'
import { connect, type Logger } from '@anymq/core'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { redisCli } from './broker.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')
// Redis 7 carries replies on shard channels; 6.2 (ANYMQ_REDIS_VERSION=6.2.14 scripts/brokers.sh up redis) on plain ones.
const sharded = url ? Number(/redis_version:(\d+)/.exec((await redisCli(url, 'INFO', 'server')).join('\n'))?.[1]) >= 7 : true
const publishCommand = sharded ? 'SPUBLISH' : 'PUBLISH'
const subscribersCommand = sharded ? 'SHARDNUMSUB' : 'NUMSUB'

/** Polls `read` until it returns something, for up to `ms`. */
async function eventually<T>(read: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`nothing came within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The `anymq` field of a reply written by hand, as an older anymq responder writes it. */
function replyProperties(correlationId: string): string {
  return JSON.stringify({ id: randomUUID(), contentType: 'application/json', timestamp: Date.now(), correlationId })
}

/** The first entry of `stream` as redis-cli prints it (`id`, then field and value lines), once there is one. */
function firstEntry(stream: string): Promise<string[]> {
  return eventually(async () => {
    const lines = await redisCli(url as string, 'XRANGE', stream, '-', '+', 'COUNT', '1')
    return lines.length > 1 ? lines : undefined
  })
}

/** A field's value in redis-cli's lines of one entry. */
function field(lines: string[], name: string): string {
  const index = lines.indexOf(name, 1)
  if (index < 0) throw new Error(`no field ${name} in ${lines.join(' ')}`)
  return lines[index + 1] as string
}

describe.skipIf(!url).each(drivers)('redis reply inbox, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', (driver) => {
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
  })

  it('publishes replies (SPUBLISH; PUBLISH before Redis 7) while the requester listens: nothing is written into its inbox stream', async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const name = uniqueName('inbox-publish')
    let inbox: string | undefined
    await mq.responder<number, number>(name).serve((request, message) => {
      inbox = message.replyTo
      return request * 2
    }).ready
    const requester = mq.requester<number, number>(name)
    const answers: number[] = []
    for (let index = 0; index < 50; index++) answers.push(await requester.request(index, { timeoutMs: 10_000 }))
    expect(answers).toEqual(Array.from({ length: 50 }, (_, index) => index * 2))
    // Redis 7: a shard channel (SPUBLISH / SSUBSCRIBE), which no pattern subscription counts.
    expect(await redisCli(url as string, 'PUBSUB', subscribersCommand, `anymq:i:${inbox}`)).toEqual([`anymq:i:${inbox}`, '1'])
    // No XADD ever reached the inbox stream: the key was never made.
    expect(await redisCli(url as string, 'EXISTS', `anymq:i:${inbox}`)).toEqual(['0'])
  })

  it(`writes the reply into the inbox stream when nobody listens on its channel (an older requester, a foreign client)${sharded ? ', a pattern subscriber notwithstanding' : ''}`, async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const name = uniqueName('inbox-fallback')
    await mq.responder<number, number>(name).serve((request) => request * 2).ready
    const address = randomUUID()
    // A PSUBSCRIBE matching the channel counts for PUBLISH; it must not pass for the requester listening.
    // Before Redis 7 it does (PUBLISH is all there is): the README states that limit.
    if (sharded) {
      const watcher = new Redis(url as string)
      open.push({ close: async () => void watcher.disconnect() })
      await watcher.psubscribe(`anymq:i:${address}*`)
    }
    const correlationId = randomUUID()
    const request = JSON.stringify({ id: randomUUID(), contentType: 'application/json', timestamp: Date.now(), correlationId, replyTo: address })
    await redisCli(url as string, 'XADD', `anymq:q:${name}`, '*', 'body', '21', 'anymq', request)
    const reply = await firstEntry(`anymq:i:${address}`)
    expect(field(reply, 'body')).toBe('42')
    expect(JSON.parse(field(reply, 'anymq')).correlationId).toBe(correlationId)
    await redisCli(url as string, 'DEL', `anymq:i:${address}`)
  })

  it('takes a reply an older responder wrote into the inbox stream', async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const name = uniqueName('inbox-streamed')
    const answer = mq.requester<number, number>(name).request(21, { timeoutMs: 10_000 })
    const request = JSON.parse(field(await firstEntry(`anymq:q:${name}`), 'anymq'))
    await redisCli(url as string, 'XADD', `anymq:i:${request.replyTo}`, '*', 'body', '42', 'anymq', replyProperties(request.correlationId))
    expect(await answer).toBe(42)
  })

  it('resolves a request once when its reply comes both published and streamed, and drops the second copy', async () => {
    const dropped: string[] = []
    const logger: Logger = {
      debug: (message) => {
        if (message.includes('dropped a reply')) dropped.push(message)
      },
      info() {},
      warn() {},
      error() {},
    }
    const mq = await connect(withDriver(url as string, driver), { adapter, logger })
    open.push(mq)
    const name = uniqueName('inbox-duplicate')
    const requester = mq.requester<number, number>(name)
    const answer = requester.request(21, { timeoutMs: 10_000 })
    const request = JSON.parse(field(await firstEntry(`anymq:q:${name}`), 'anymq'))
    const properties = replyProperties(request.correlationId)
    const published = `4:body2:425:anymq${Buffer.byteLength(properties)}:${properties}`
    expect(await redisCli(url as string, publishCommand, `anymq:i:${request.replyTo}`, published)).toEqual(['1'])
    await redisCli(url as string, 'XADD', `anymq:i:${request.replyTo}`, '*', 'body', '42', 'anymq', properties)
    expect(await answer).toBe(42)
    await eventually(async () => (dropped.length > 0 ? dropped : undefined))
    expect(dropped).toHaveLength(1)
  })

  it('subscribes again after its subscriber connection was killed, and replies are published again', async () => {
    const connectionName = uniqueName('inbox-resubscribe')
    const mq = await connect(withDriver(url as string, driver), { adapter, broker: { connectionName } })
    open.push(mq)
    const name = uniqueName('inbox-resubscribe')
    let inbox: string | undefined
    await mq.responder<number, number>(name).serve((request, message) => {
      inbox = message.replyTo
      return request + 1
    }).ready
    const requester = mq.requester<number, number>(name)
    expect(await requester.request(1, { timeoutMs: 10_000 })).toBe(2)
    const clients = await redisCli(url as string, 'CLIENT', 'LIST')
    const subscriber = clients.find((line) => line.includes(` name=${connectionName}:replies `))
    expect(subscriber).toBeDefined()
    await redisCli(url as string, 'CLIENT', 'KILL', 'ID', /\bid=(\d+)/.exec(subscriber as string)?.[1] as string)
    await eventually(async () => {
      const [, count] = await redisCli(url as string, 'PUBSUB', subscribersCommand, `anymq:i:${inbox}`)
      return count === '1' ? count : undefined
    })
    await redisCli(url as string, 'DEL', `anymq:i:${inbox}`)
    expect(await requester.request(2, { timeoutMs: 10_000 })).toBe(3)
    expect(await redisCli(url as string, 'EXISTS', `anymq:i:${inbox}`)).toEqual(['0'])
  })

  it('streams replies when the ACL allows no channel (the default of a Redis 7 user): the round trip still works', async () => {
    const user = uniqueName('nochannels')
    const password = randomUUID()
    await redisCli(url as string, 'ACL', 'SETUSER', user, 'on', `>${password}`, '~anymq:*', 'resetchannels', '+@all')
    const userUrl = new URL(url as string)
    userUrl.username = user
    userUrl.password = password
    const warnings: string[] = []
    const logger: Logger = { debug() {}, info() {}, warn: (message) => void warnings.push(message), error() {} }
    const mq = await connect(withDriver(userUrl.toString(), driver), { adapter, logger })
    try {
      const name = uniqueName('inbox-acl')
      let inbox: string | undefined
      await mq.responder<number, number>(name).serve((request, message) => {
        inbox = message.replyTo
        return request * 3
      }).ready
      const requester = mq.requester<number, number>(name)
      expect(await requester.request(2, { timeoutMs: 10_000 })).toBe(6)
      expect(await requester.request(3, { timeoutMs: 10_000 })).toBe(9)
      expect(await redisCli(url as string, 'EXISTS', `anymq:i:${inbox}`)).toEqual(['1'])
      expect(warnings.some((warning) => warning.includes('not subscribed to its channel'))).toBe(true)
    } finally {
      // Closed before the user goes: DELUSER drops its connections, which would then wait to reconnect.
      await mq.close()
      await redisCli(url as string, 'ACL', 'DELUSER', user)
    }
  })

  it('trims the replies it read from its stream: the inbox does not grow with them', async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const name = uniqueName('inbox-trim')
    let inbox: string | undefined
    await mq.responder<number, number>(name).serve((request, message) => {
      inbox = message.replyTo
      return request
    }).ready
    expect(await mq.requester<number, number>(name).request(1, { timeoutMs: 10_000 })).toBe(1)
    // 300 streamed replies nobody waits for (late ones): read, dropped, and trimmed once 256 were read.
    const raw = new Redis(url as string)
    try {
      const pipeline = raw.pipeline()
      for (let index = 0; index < 300; index++) pipeline.xadd(`anymq:i:${inbox}`, '*', 'body', String(index), 'anymq', replyProperties(randomUUID()))
      await pipeline.exec()
    } finally {
      raw.disconnect()
    }
    await eventually(async () => {
      const [length] = await redisCli(url as string, 'XLEN', `anymq:i:${inbox}`)
      return Number(length) < 256 ? length : undefined
    }, 4000)
  })
})
