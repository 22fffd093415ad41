import { type Anymq, connect, type Message, MessageTooLargeError, SerializationError, UnsupportedFeatureError, ValidationError } from '@anymq/core'
import { adapter as memoryAdapter } from '@anymq/memory'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Outbox, type OutboxRelay } from '../src/index.js'
import { type StoreFixture, stores, uniqueName, unsetReason, waitUntil } from './fixtures.js'
import { flakyMemoryAdapter } from './flaky-adapter.js'

const Order = z.object({ orderId: z.string(), amount: z.number().int().positive() })
type Order = z.infer<typeof Order>

for (const store of stores) {
  describe.skipIf(!store.available)(`outbox on ${store.name}${unsetReason(...store.needs)}`, () => {
    let fixture: StoreFixture<any>
    let mq: Anymq
    let relays: OutboxRelay[]
    let broker: string

    beforeEach(async () => {
      fixture = await store.create()
      broker = `memory://${uniqueName('broker')}`
      mq = await connect(broker, { adapter: memoryAdapter })
      relays = []
    })

    afterEach(async () => {
      await Promise.all(relays.map((relay) => relay.stop()))
      await mq.close()
      await fixture.close()
    })

    function collect<T>(queue: string): { messages: Message<T>[] } {
      const seen: { messages: Message<T>[] } = { messages: [] }
      mq.queue<T>(queue).consume((message) => {
        seen.messages.push(message)
      })
      return seen
    }

    it('publishes nothing from a transaction that rolled back', async () => {
      const queue = uniqueName('rollback')
      const seen = collect<Order>(queue)
      const orders = fixture.outbox.queue<Order>(queue, { schema: Order })
      await fixture.rollback(async (tx) => {
        for (let index = 1; index <= 3; index++) await orders.add(tx, { orderId: `rolled-back-${index}`, amount: index })
      })
      await fixture.commit((tx) => orders.add(tx, { orderId: 'committed', amount: 1 }))
      relays.push(fixture.relayOutbox().startRelay({ mq }))
      await waitUntil(() => seen.messages.length >= 1, 20_000, 'the committed message')
      // The relay publishes in insertion order: anything rolled back would have come first.
      await waitUntil(async () => (await fixture.outbox.pendingCount()) === 0, 20_000, 'an empty outbox')
      expect(seen.messages.map((message) => message.body.orderId)).toEqual(['committed'])
      expect(await fixture.count(fixture.tables.outbox)).toBe(1)
    })

    it('rejects a message that cannot be encoded inside add(), with a typed error, and the transaction rolls back', async () => {
      const queue = uniqueName('encode')
      const orders = fixture.outbox.queue<Order>(queue, { schema: Order })
      await expect(fixture.commit((tx) => orders.add(tx, { orderId: 'x', amount: -5 }))).rejects.toBeInstanceOf(ValidationError)
      await expect(fixture.commit((tx) => fixture.outbox.add(tx, queue, { amount: 10n }))).rejects.toBeInstanceOf(SerializationError)
      await expect(fixture.commit((tx) => fixture.outbox.add(tx, queue, { blob: 'x'.repeat(300 * 1024) }))).rejects.toBeInstanceOf(MessageTooLargeError)
      await expect(fixture.commit((tx) => fixture.outbox.add(tx, queue, { a: 1 }, { delayMs: 1000 }))).rejects.toBeInstanceOf(UnsupportedFeatureError)
      await expect(fixture.commit((tx) => fixture.outbox.add(tx, queue, { a: 1 }, { headers: { 'x-anymq-attempt': '2' } }))).rejects.toThrow(/reserved/)
      // A good message added before the bad one in the same transaction is rolled back with it.
      await expect(
        fixture.commit(async (tx) => {
          await orders.add(tx, { orderId: 'good', amount: 1 })
          await orders.add(tx, { orderId: 'bad', amount: 0 })
        }),
      ).rejects.toBeInstanceOf(ValidationError)
      expect(await fixture.count(fixture.tables.outbox)).toBe(0)
      // Outside a transaction there is nothing to roll back with: refused.
      const outside =
        store.name === 'postgres'
          ? (fixture.outbox.store as unknown as { pool: unknown }).pool
          : (fixture.outbox.store as unknown as { database: unknown }).database
      await expect(fixture.outbox.add(outside, queue, { a: 1 })).rejects.toThrow(/transaction/)
      // With the broker named, its limits apply instead of the portable ones: memory takes 1 MiB and delays.
      const roomy = new Outbox({ store: fixture.outbox.store, broker: mq })
      await fixture.commit(async (tx) => {
        await roomy.add(tx, queue, { blob: 'x'.repeat(300 * 1024) })
        await roomy.add(tx, queue, { a: 1 }, { delayMs: 1000 })
      })
      expect(await fixture.count(fixture.tables.outbox)).toBe(2)
    })

    it('keeps the id, key, headers, correlation id, timestamp and bytes of each message, for queues and topics', async () => {
      const queue = uniqueName('fields')
      const topic = uniqueName('events')
      const seen = collect<Order>(queue)
      const events: Message<unknown>[] = []
      const subscription = mq.topic(topic).subscribe('audit', (message) => {
        events.push(message)
      })
      await subscription.ready
      const before = Date.now()
      const added = await fixture.commit(async (tx) => {
        const first = await fixture.outbox.queue<Order>(queue, { schema: Order }).add(
          tx,
          { orderId: 'o-1', amount: 3 },
          {
            id: 'order-1-created',
            key: 'customer-7',
            headers: { tenant: 'acme' },
            correlationId: 'corr-1',
          },
        )
        const second = await fixture.outbox.add(tx, { topic }, { type: 'created', text: 'grüße 🎉' }, { key: 'customer-7', subject: 'orders.created' })
        return [first.id, second.id]
      })
      relays.push(fixture.relayOutbox().startRelay({ mq }))
      await waitUntil(() => seen.messages.length === 1 && events.length === 1, 20_000, 'both messages')
      const message = seen.messages[0]!
      expect(message.id).toBe('order-1-created')
      expect(added[0]).toBe('order-1-created')
      expect(message.body).toEqual({ orderId: 'o-1', amount: 3 })
      expect(message.key).toBe('customer-7')
      expect(message.headers).toEqual({ tenant: 'acme' })
      expect(message.correlationId).toBe('corr-1')
      expect(message.attempt).toBe(1)
      expect(message.timestamp.getTime()).toBeGreaterThanOrEqual(before - 1000)
      expect(events[0]!.id).toBe(added[1])
      expect(events[0]!.body).toEqual({ type: 'created', text: 'grüße 🎉' })
      expect(events[0]!.subject).toBe('orders.created')
    })

    it('publishes in insertion order per key with several relays at once, each row once', async () => {
      const queue = uniqueName('order')
      const seen = collect<{ key: string; sequence: number }>(queue)
      const keys = 8
      const perKey = 60
      const total = keys * perKey
      // Several transactions, keys interleaved, some rows without a key.
      for (let batch = 0; batch < perKey / 10; batch++) {
        await fixture.commit(async (tx) => {
          for (let index = 0; index < 10; index++) {
            const sequence = batch * 10 + index
            await fixture.outbox.addBatch(
              tx,
              queue,
              Array.from({ length: keys }, (_, key) => ({ key: `k${key}`, sequence })),
              (body) => ({ key: body.key }),
            )
          }
        })
      }
      await fixture.commit((tx) => fixture.outbox.addBatch(tx, queue, [{ key: 'none', sequence: 0 }]))
      for (let index = 0; index < 3; index++) relays.push(fixture.relayOutbox().startRelay({ mq, batchSize: 25, concurrency: 2 }))
      await waitUntil(() => seen.messages.length >= total + 1, 60_000, `${total + 1} messages`)
      await waitUntil(async () => (await fixture.outbox.pendingCount()) === 0, 20_000, 'an empty outbox')
      const byKey = new Map<string, number[]>()
      for (const message of seen.messages) {
        const list = byKey.get(message.body.key) ?? []
        list.push(message.body.sequence)
        byKey.set(message.body.key, list)
      }
      for (let key = 0; key < keys; key++) expect(byKey.get(`k${key}`)).toEqual(Array.from({ length: perKey }, (_, index) => index))
      // No duplicates in the normal case: every id once.
      expect(new Set(seen.messages.map((message) => message.id)).size).toBe(seen.messages.length)
      expect(seen.messages.length).toBe(total + 1)
      const published = relays.reduce((sum, relay) => sum + relay.counts.published, 0)
      expect(published).toBe(total + 1)
    })

    it('retries a row the broker refuses, dead-letters it after maxAttempts with the error, lists and replays it; rows of other keys keep flowing', async () => {
      const flaky = flakyMemoryAdapter()
      const flakyMq = await connect(broker, { adapter: flaky })
      try {
        const queue = uniqueName('refused')
        const seen = collect<{ name: string }>(queue)
        await fixture.commit(async (tx) => {
          await fixture.outbox.add(tx, queue, { name: 'poison' }, { key: 'a', headers: { refuse: 'yes' } })
          await fixture.outbox.add(tx, queue, { name: 'after-poison' }, { key: 'a' })
          await fixture.outbox.add(tx, queue, { name: 'other-key' }, { key: 'b' })
        })
        const errors: Error[] = []
        relays.push(
          fixture.relayOutbox().startRelay({ mq: flakyMq, maxAttempts: 3, retryBackoff: { initialMs: 20, maxMs: 50 }, onError: (error) => errors.push(error) }),
        )
        await waitUntil(async () => (await fixture.outbox.deadLetters().list()).length === 1, 30_000, 'a dead letter')
        await waitUntil(() => seen.messages.length === 2, 20_000, 'the two good messages')
        // The poison row held back its own key until it was dead-lettered; the other key never waited for it.
        expect(seen.messages.map((message) => message.body.name).sort()).toEqual(['after-poison', 'other-key'])
        const [dead] = await fixture.outbox.deadLetters().list()
        expect(dead!.attempts).toBe(3)
        expect(dead!.error).toMatch(/PublishError.*refused/)
        expect(dead!.destination).toBe(`queue '${queue}'`)
        expect(dead!.key).toBe('a')
        expect(dead!.headers).toEqual({ refuse: 'yes' })
        expect(errors.some((error) => /dead-letter/.test(error.message))).toBe(true)
        flaky.state.refusing = false
        expect(await fixture.outbox.deadLetters().replay({ positions: [dead!.position] })).toBe(1)
        await waitUntil(() => seen.messages.length === 3, 20_000, 'the replayed message')
        expect(seen.messages[2]!.body.name).toBe('poison')
        expect(await fixture.outbox.deadLetters().list()).toEqual([])
      } finally {
        await Promise.all(relays.map((relay) => relay.stop()))
        await flakyMq.close()
      }
    })

    it('holds back only the key of a row waiting for its retry, however many rows queue behind it', async () => {
      const flaky = flakyMemoryAdapter()
      const flakyMq = await connect(broker, { adapter: flaky })
      try {
        const queue = uniqueName('blocked')
        const seen = collect<{ key: string; sequence: number }>(queue)
        await fixture.commit(async (tx) => {
          await fixture.outbox.add(tx, queue, { key: 'a', sequence: -1 }, { key: 'a', headers: { refuse: 'yes' } })
          await fixture.outbox.addBatch(
            tx,
            queue,
            Array.from({ length: 120 }, (_, sequence) => ({ key: 'a', sequence })),
            { key: 'a' },
          )
          await fixture.outbox.addBatch(
            tx,
            queue,
            Array.from({ length: 60 }, (_, sequence) => ({ key: 'b', sequence })),
            { key: 'b' },
          )
        })
        relays.push(fixture.relayOutbox().startRelay({ mq: flakyMq, batchSize: 20, retryBackoff: { initialMs: 600_000 }, onError: () => {} }))
        await waitUntil(() => seen.messages.length >= 60, 30_000, "key b's 60 messages")
        expect(seen.messages.map((message) => message.body.key)).toEqual(Array.from({ length: 60 }, () => 'b'))
        expect(seen.messages.map((message) => message.body.sequence)).toEqual(Array.from({ length: 60 }, (_, sequence) => sequence))
        await waitUntil(async () => (await fixture.outbox.pendingCount()) === 121, 20_000, 'key b marked sent, key a still pending')
        expect(seen.messages.length).toBe(60)
      } finally {
        await Promise.all(relays.map((relay) => relay.stop()))
        await flakyMq.close()
      }
    })

    it('dead-letters at once a row the relay broker can never take (larger than its limit)', async () => {
      const small = await connect(`${broker}?maxMessageBytes=1024`, { adapter: memoryAdapter })
      try {
        const queue = uniqueName('large')
        const seen = collect<{ text: string }>(queue)
        await fixture.commit(async (tx) => {
          await fixture.outbox.add(tx, queue, { text: 'x'.repeat(4000) })
          await fixture.outbox.add(tx, queue, { text: 'small' })
        })
        relays.push(fixture.relayOutbox().startRelay({ mq: small, onError: () => {} }))
        await waitUntil(() => seen.messages.length === 1, 20_000, 'the small message')
        await waitUntil(async () => (await fixture.outbox.deadLetters().list()).length === 1, 20_000, 'the dead letter')
        const [dead] = await fixture.outbox.deadLetters().list()
        expect(dead!.attempts).toBe(1)
        expect(dead!.error).toMatch(/MessageTooLargeError/)
      } finally {
        await Promise.all(relays.map((relay) => relay.stop()))
        await small.close()
      }
    })

    it('waits out a broker outage without losing or reordering anything, and counts no attempts for it', async () => {
      const flaky = flakyMemoryAdapter()
      flaky.state.outage = true
      const flakyMq = await connect(broker, { adapter: flaky })
      try {
        const queue = uniqueName('outage')
        const seen = collect<{ sequence: number }>(queue)
        relays.push(fixture.relayOutbox().startRelay({ mq: flakyMq, maxAttempts: 1, outageBackoff: { initialMs: 10, maxMs: 100 }, onError: () => {} }))
        for (let sequence = 0; sequence < 50; sequence++) await fixture.commit((tx) => fixture.outbox.add(tx, queue, { sequence }, { key: `k${sequence % 3}` }))
        await waitUntil(() => flaky.state.publishCalls >= 5, 20_000, 'the relay to try during the outage')
        expect(seen.messages).toEqual([])
        flaky.state.outage = false
        await waitUntil(() => seen.messages.length === 50, 30_000, 'the backlog')
        for (let key = 0; key < 3; key++) {
          const sequences = seen.messages.map((message) => message.body.sequence).filter((sequence) => sequence % 3 === key)
          expect(sequences).toEqual([...sequences].sort((a, b) => a - b))
        }
        expect(await fixture.outbox.deadLetters().list()).toEqual([])
      } finally {
        await Promise.all(relays.map((relay) => relay.stop()))
        await flakyMq.close()
      }
    })

    it('deletes sent rows after the retention, and at once with retention 0', async () => {
      const queue = uniqueName('retention')
      const seen = collect<number>(queue)
      await fixture.commit((tx) => fixture.outbox.addBatch(tx, queue, [1, 2, 3]))
      const relay = fixture.relayOutbox().startRelay({ mq, retentionMs: 1, cleanupIntervalMs: 50 })
      relays.push(relay)
      await waitUntil(() => seen.messages.length === 3, 20_000, 'three messages')
      await waitUntil(async () => (await fixture.count(fixture.tables.outbox)) === 0, 20_000, 'the cleanup')
      await relay.stop()
      relays.push(fixture.relayOutbox().startRelay({ mq, retentionMs: 0 }))
      await fixture.commit((tx) => fixture.outbox.addBatch(tx, queue, [4, 5]))
      await waitUntil(() => seen.messages.length === 5, 20_000, 'two more')
      await waitUntil(async () => (await fixture.count(fixture.tables.outbox)) === 0, 20_000, 'deleted at once')
    })
  })
}

describe('outbox options, checked with core validator', () => {
  // queue() and topic() never touch the store, so none is needed.
  const store = {} as never
  let mq: Anymq
  beforeEach(async () => {
    mq = await connect('memory://outbox-options', { adapter: memoryAdapter })
  })
  afterEach(() => mq.close())

  it('names the deepest wrong field of a retry policy, every problem at once', () => {
    const outbox = new Outbox({ store })
    expect(() => outbox.queue('q', { retry: { backoff: { type: 'fixed', initialMs: 5 } as never }, codec: 'xml' as never })).toThrow(
      "[anymq] [outbox] outbox.queue('q') options.retry.backoff.initialMs: unknown for type 'fixed' (allowed: type, delayMs, jitter); " +
        "outbox.queue('q') options.retry.backoff.delayMs: required for type 'fixed'; " +
        "outbox.queue('q') options.codec: expected 'json', 'text', 'raw' or a codec { contentType, encode, decode }, got 'xml'",
    )
  })

  it("checks a queue's broker options against the adapter it was given, and ordered: true against its ordering", () => {
    const keyed = new Outbox({ store, broker: memoryAdapter })
    expect(() => keyed.queue('q', { broker: { queueType: 'quorum' } })).toThrow("outbox.queue('q') options.broker.queueType: unknown option; allowed: (none)")
    keyed.queue('q', { ordered: true })
    const fromConnection = new Outbox({ store, broker: mq })
    expect(() => fromConnection.queue('q', { broker: { queueType: 'quorum' } })).toThrow('options.broker.queueType: unknown option; allowed: (none)')
    // Without a broker the outbox assumes the portable minimum, which keeps no order across instances.
    expect(() => new Outbox({ store }).queue('q', { ordered: true })).toThrow(UnsupportedFeatureError)
  })
})
