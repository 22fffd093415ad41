import { connect, type Message } from '@anymq/core'
import { adapter as memoryAdapter } from '@anymq/memory'
import { type ChainableCommander, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Inbox, postgresInbox, redisInbox, sqliteInbox } from '../src/index.js'
import { postgresFixture, redisUrl, type StoreFixture, sqliteFixture, stores, uniqueName, unsetReason, waitUntil } from './fixtures.js'

function fakeMessage<T>(id: string, body: T): Message<T> {
  return {
    id,
    body,
    headers: {},
    key: undefined,
    attempt: 1,
    timestamp: new Date(),
    correlationId: undefined,
    replyTo: undefined,
    subject: undefined,
    raw: undefined,
    ack: async () => {},
    nack: async () => {},
    release: async () => {},
    extendLease: async () => {},
  }
}

for (const store of stores) {
  describe.skipIf(!store.available)(`inbox on ${store.name}${unsetReason(...store.needs)}`, () => {
    let fixture: StoreFixture<any>
    let makeInbox: (consumer: string) => Inbox<any>
    let credit: (tx: any, account: string, amount: number) => Promise<void>
    let balance: (account: string) => Promise<number>

    beforeAll(async () => {
      fixture = store.name === 'postgres' ? await postgresFixture() : await sqliteFixture()
      const accounts = `${fixture.tables.inbox}_accounts`
      await fixture.query(`CREATE TABLE ${accounts} (account text PRIMARY KEY, balance integer NOT NULL)`)
      if (store.name === 'postgres') {
        const { Pool } = (await import('pg')).default
        const pool = new Pool({ connectionString: fixture.databaseUrl, max: 8 })
        makeInbox = (consumer) => postgresInbox({ pool, consumer, table: fixture.tables.inbox })
        credit = async (client, account, amount) => {
          await client.query(
            `INSERT INTO ${accounts} (account, balance) VALUES ($1, $2) ON CONFLICT (account) DO UPDATE SET balance = ${accounts}.balance + EXCLUDED.balance`,
            [account, amount],
          )
        }
        const close = fixture.close.bind(fixture)
        fixture = Object.assign(fixture, {
          close: async () => {
            await pool.end()
            await fixture.query(`DROP TABLE IF EXISTS ${accounts}`)
            await close()
          },
        })
      } else {
        const Database = (await import('better-sqlite3')).default
        const db = new Database(fixture.databaseUrl.replace(/^sqlite:/, ''))
        db.pragma('busy_timeout = 10000')
        makeInbox = (consumer) => sqliteInbox({ database: db, consumer, table: fixture.tables.inbox })
        credit = async (database, account, amount) => {
          database
            .prepare(`INSERT INTO ${accounts} (account, balance) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET balance = balance + excluded.balance`)
            .run(account, amount)
        }
        const close = fixture.close.bind(fixture)
        fixture = Object.assign(fixture, {
          close: async () => {
            db.close()
            await close()
          },
        })
      }
      balance = async (account) => Number((await fixture.query(`SELECT balance FROM ${accounts} WHERE account = '${account}'`))[0]?.balance ?? 0)
    })

    afterAll(async () => {
      await fixture?.close()
    })

    it('applies a message once however often it is delivered, also concurrently', async () => {
      const inbox = makeInbox('billing')
      const handler = inbox.handle<{ amount: number }>((message, tx) => credit(tx, 'alice', message.body.amount))
      await handler(fakeMessage('m-1', { amount: 5 }))
      await handler(fakeMessage('m-1', { amount: 5 }))
      await Promise.all([1, 2, 3, 4].map(() => handler(fakeMessage('m-2', { amount: 7 }))))
      expect(await balance('alice')).toBe(12)
      expect(inbox.counts).toEqual({ processed: 2, duplicates: 4 })
    })

    it('records nothing when the handler throws, so the retry applies it', async () => {
      const inbox = makeInbox('billing-failing')
      let fail = true
      const handler = inbox.handle<{ amount: number }>(async (message, tx) => {
        await credit(tx, 'bob', message.body.amount)
        if (fail) throw new Error('downstream failed')
      })
      await expect(handler(fakeMessage('m-3', { amount: 4 }))).rejects.toThrow('downstream failed')
      expect(await balance('bob')).toBe(0)
      fail = false
      await handler(fakeMessage('m-3', { amount: 4 }))
      await handler(fakeMessage('m-3', { amount: 4 }))
      expect(await balance('bob')).toBe(4)
    })

    it('scopes ids by consumer name, and forgets them after cleanup', async () => {
      const first = makeInbox('first')
      const second = makeInbox('second')
      expect(await first.process('shared-id', () => 'ran')).toEqual({ duplicate: false, result: 'ran' })
      expect(await second.process('shared-id', () => 'ran')).toEqual({ duplicate: false, result: 'ran' })
      expect(await first.process('shared-id', () => 'ran')).toEqual({ duplicate: true })
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(await first.cleanup(1)).toBe(1)
      expect(await first.process('shared-id', () => 'again')).toEqual({ duplicate: false, result: 'again' })
    })

    it('takes over an id recorded longer ago than ttlMs, and keeps one recorded since', async () => {
      const inbox = makeInbox('ttl')
      expect(await inbox.process('ttl-1', () => 'first', { ttlMs: 60_000 })).toEqual({ duplicate: false, result: 'first' })
      expect(await inbox.process('ttl-1', () => 'second', { ttlMs: 60_000 })).toEqual({ duplicate: true })
      await new Promise((resolve) => setTimeout(resolve, 30))
      expect(await inbox.process('ttl-1', () => 'third', { ttlMs: 5 })).toEqual({ duplicate: false, result: 'third' })
      expect(await inbox.process('ttl-1', () => 'fourth', { ttlMs: 60_000 })).toEqual({ duplicate: true })
    })

    it("is core's idempotency store: consume({ idempotency }) runs the handler once per id", async () => {
      const mq = await connect(`memory://${uniqueName('idempotency')}`, { adapter: memoryAdapter })
      try {
        const queue = mq.queue<string>(uniqueName('idempotent'))
        const seen: string[] = []
        const subscription = queue.consume((message) => void seen.push(message.body), { idempotency: { store: makeInbox('core-consumer'), ttlMs: 60_000 } })
        await subscription.ready
        await queue.send('a', { id: 'core-1' })
        await queue.send('a again', { id: 'core-1' })
        await queue.send('b', { id: 'core-2' })
        await waitUntil(() => subscription.counts.acked >= 3, 20_000, 'three acks')
        expect(seen.sort()).toEqual(['a', 'b'])
        expect(subscription.counts.duplicates).toBe(1)
      } finally {
        await mq.close()
      }
    })

    it('dedupes real redeliveries through anymq (the handler fails after writing, the message comes back)', async () => {
      const mq = await connect(`memory://${uniqueName('inbox')}`, { adapter: memoryAdapter })
      try {
        const queue = mq.queue<{ amount: number }>(uniqueName('payments'), { retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 10 } } })
        const inbox = makeInbox('payments')
        const attempts: number[] = []
        queue.consume(
          inbox.handle(async (message, tx) => {
            attempts.push(message.attempt)
            await credit(tx, 'carol', message.body.amount)
            if (message.attempt === 1) throw new Error('crash before commit')
          }),
        )
        await queue.send({ amount: 9 }, { id: 'pay-1' })
        await queue.send({ amount: 9 }, { id: 'pay-1' })
        await waitUntil(() => inbox.counts.processed + inbox.counts.duplicates >= 2 && attempts.length >= 2, 20_000, 'both deliveries')
        expect(await balance('carol')).toBe(9)
      } finally {
        await mq.close()
      }
    })
  })
}

describe.skipIf(!redisUrl)(`inbox on redis${unsetReason('redis')}`, () => {
  let redis: Redis
  beforeAll(() => {
    redis = new Redis(redisUrl!, { lazyConnect: false, maxRetriesPerRequest: 2 })
  })
  afterAll(async () => {
    await redis?.quit()
  })

  it('applies a message once, with the handler’s Redis writes atomic with the mark', async () => {
    const prefix = `${uniqueName('inbox')}:`
    const inbox = redisInbox<ChainableCommander>({ redis, consumer: 'counter', prefix, ttlMs: 60_000 })
    const counter = `${prefix}counter`
    const handler = inbox.handle<{ amount: number }>((message, multi) => {
      multi.set(`${prefix}last`, message.id)
      multi.incrby(counter, message.body.amount)
    })
    await handler(fakeMessage('r-1', { amount: 2 }))
    await handler(fakeMessage('r-1', { amount: 2 }))
    await handler(fakeMessage('r-2', { amount: 3 }))
    expect(Number(await redis.get(counter))).toBe(5)
    expect(await redis.get(`${prefix}last`)).toBe('r-2')
    expect(inbox.counts).toEqual({ processed: 2, duplicates: 1 })
    expect(await redis.pttl(`${prefix}counter:r-1`)).toBeGreaterThan(0)
  })

  it("takes the call's ttlMs for the processed mark, as core's idempotent consumer passes it", async () => {
    const prefix = `${uniqueName('inbox')}:`
    const inbox = redisInbox({ redis, consumer: 'ttl', prefix, ttlMs: 3_600_000 })
    await inbox.process('r-ttl', () => 'ran', { ttlMs: 50_000 })
    const ttl = await redis.pttl(`${prefix}ttl:r-ttl`)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(50_000)
  })

  it('lets a failed handler run again, and turns a concurrent duplicate away while one runs', async () => {
    const prefix = `${uniqueName('inbox')}:`
    const inbox = redisInbox({ redis, consumer: 'worker', prefix })
    await expect(
      inbox.process('r-3', () => {
        throw new Error('failed')
      }),
    ).rejects.toThrow('failed')
    let release!: () => void
    const running = inbox.process('r-3', () => new Promise<string>((resolve) => (release = () => resolve('done'))))
    await waitUntil(() => release !== undefined, 5000, 'the first run')
    await expect(inbox.process('r-3', () => 'second')).rejects.toThrow(/being processed/)
    release()
    expect(await running).toEqual({ duplicate: false, result: 'done' })
    expect(await inbox.process('r-3', () => 'third')).toEqual({ duplicate: true })
  })
})
