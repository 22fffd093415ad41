import { ConfigError, MessageTooLargeError, type StandardSchemaV1, UnsupportedFeatureError, ValidationError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, type Harness, uniqueName } from '../harness.js'

/** A tiny Standard Schema, so the suite needs no validation library. */
export const orderSchema: StandardSchemaV1<unknown, { orderId: string; amount: number }> = {
  '~standard': {
    version: 1,
    vendor: 'anymq-conformance',
    validate(value) {
      const candidate = value as { orderId?: unknown; amount?: unknown }
      if (typeof candidate !== 'object' || candidate === null) return { issues: [{ message: 'expected an object' }] }
      const issues = []
      if (typeof candidate.orderId !== 'string') issues.push({ message: 'expected a string', path: ['orderId'] })
      if (typeof candidate.amount !== 'number') issues.push({ message: 'expected a number', path: ['amount'] })
      return issues.length > 0 ? { issues } : { value: candidate as { orderId: string; amount: number } }
    },
  },
}

export function roundTripCases(h: Harness): void {
  describe('round trip', () => {
    it('delivers body, headers, key, id, correlation id and timestamp unchanged', async () => {
      const mq = await h.connect()
      const queue = mq.queue<{
        order: number
        tags: string[]
        nested: { ok: boolean }
      }>(uniqueName('rt'), h.target.queueOptions)
      const collector = new Collector<{
        order: number
        tags: string[]
        nested: { ok: boolean }
      }>()
      const sub = queue.consume(collector.handler)
      await sub.ready
      const before = Date.now()
      const { id } = await queue.send(
        { order: 7, tags: ['a', 'b'], nested: { ok: true } },
        {
          key: 'customer-1',
          headers: { tenant: 'acme', 'trace-id': 'abc-123' },
          correlationId: 'corr-1',
          id: 'order-7',
        },
      )
      await collector.waitForCount(1, h.ms(10_000))
      const message = collector.items[0]
      expect(id).toBe('order-7')
      expect(message?.id).toBe('order-7')
      expect(message?.body).toEqual({
        order: 7,
        tags: ['a', 'b'],
        nested: { ok: true },
      })
      expect(message?.headers).toEqual({
        tenant: 'acme',
        'trace-id': 'abc-123',
      })
      expect(message?.key).toBe('customer-1')
      expect(message?.correlationId).toBe('corr-1')
      expect(message?.attempt).toBe(1)
      expect(message?.timestamp.getTime()).toBeGreaterThanOrEqual(before - 1000)
      expect(message?.timestamp.getTime()).toBeLessThanOrEqual(Date.now() + 1000)
    })

    it('round-trips every byte value with the raw codec', async () => {
      const mq = await h.connect()
      const queue = mq.queue<Uint8Array>(uniqueName('raw'), {
        ...h.target.queueOptions,
        codec: 'raw',
      })
      const collector = new Collector<Uint8Array>()
      await queue.consume(collector.handler).ready
      const bytes = new Uint8Array(512).map((_, index) => index % 256)
      await queue.send(bytes)
      await queue.send(new Uint8Array(0))
      await collector.waitForCount(2, h.ms(10_000))
      const bodies = collector.bodies.map((body) => Buffer.from(body).toString('hex')).sort()
      expect(bodies).toEqual([Buffer.from(bytes).toString('hex'), ''].sort())
    })

    it('round-trips unicode text and unicode header values', async () => {
      const mq = await h.connect()
      const text = 'ünïcødé ✓ 日本語 עברית 🚀 \u0000 end'
      const queue = mq.queue<string>(uniqueName('utf'), {
        ...h.target.queueOptions,
        codec: 'text',
      })
      const collector = new Collector<string>()
      await queue.consume(collector.handler).ready
      await queue.send(text, { headers: { city: 'Zürich 東京' } })
      await collector.waitForCount(1, h.ms(10_000))
      expect(collector.items[0]?.body).toBe(text)
      expect(collector.items[0]?.headers.city).toBe('Zürich 東京')
    })

    it('round-trips a payload close to the size limit', async () => {
      const mq = await h.connect()
      const size = Math.min(h.capabilities.maxMessageBytes - 4096, 900 * 1024)
      const queue = mq.queue<Uint8Array>(uniqueName('large'), {
        ...h.target.queueOptions,
        codec: 'raw',
      })
      const collector = new Collector<Uint8Array>()
      await queue.consume(collector.handler).ready
      const payload = new Uint8Array(size).map((_, index) => (index * 31) % 251)
      await queue.send(payload)
      await collector.waitForCount(1, h.ms(15_000))
      expect(collector.items[0]?.body.byteLength).toBe(size)
      expect(Buffer.from(collector.items[0]?.body ?? []).equals(Buffer.from(payload))).toBe(true)
    })

    it('refuses a message over maxMessageBytes with MessageTooLargeError and sends nothing', async () => {
      const mq = await h.connect()
      const queue = mq.queue<Uint8Array>(uniqueName('toolarge'), {
        ...h.target.queueOptions,
        codec: 'raw',
      })
      const collector = new Collector<Uint8Array>()
      await queue.consume(collector.handler).ready
      const error = await queue.send(new Uint8Array(h.capabilities.maxMessageBytes + 1)).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(MessageTooLargeError)
      expect((error as MessageTooLargeError).code).toBe('ERR_MESSAGE_TOO_LARGE')
      expect((error as Error).message).toContain(String(h.capabilities.maxMessageBytes))
      await queue.send(new Uint8Array([1]))
      await collector.waitForCount(1, h.ms(10_000))
      expect(collector.items.map((message) => message.body.byteLength)).toEqual([1])
    })

    it('refuses a body that fails its schema with ValidationError and sends nothing', async () => {
      const mq = await h.connect()
      const name = uniqueName('schema-send')
      const queue = mq.queue(name, {
        ...h.target.queueOptions,
        schema: orderSchema,
      })
      const collector = new Collector<unknown>()
      await queue.consume(collector.handler).ready
      const error = await queue.send({ orderId: 42 } as never).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).issues.map((issue) => issue.path?.join('.'))).toEqual(['orderId', 'amount'])
      await queue.send({ orderId: 'ok', amount: 1 })
      await collector.waitForCount(1, h.ms(10_000))
      expect(collector.bodies).toEqual([{ orderId: 'ok', amount: 1 }])
    })

    it('refuses unknown options and reserved headers with ConfigError naming them', async () => {
      const mq = await h.connect()
      const name = uniqueName('options')
      expect(() => mq.queue(name, { retries: 3 } as never)).toThrow(ConfigError)
      expect(() => mq.queue(name, { retries: 3 } as never)).toThrow(/retries: unknown option; allowed: .*retry/)
      const queue = mq.queue(name, h.target.queueOptions)
      await expect(queue.send({}, { delay: 5 } as never)).rejects.toThrow(/delay: unknown option/)
      await expect(queue.send({}, { headers: { 'x-anymq-attempt': '9' } })).rejects.toThrow(ConfigError)
      expect(() => queue.consume(() => {}, { concurrency: 0 })).toThrow(/concurrency: expected an integer from 1/)
    })

    it('checks the per-queue broker options at the call, naming the unknown key and the allowed ones', async () => {
      const mq = await h.connect()
      const name = uniqueName('broker-options')
      const unknown = { broker: { noSuchOption: 1 } }
      const named = /options\.broker\.noSuchOption: unknown option; allowed: /
      expect(() => mq.queue(name, unknown)).toThrow(named)
      expect(() => mq.topic(name, unknown)).toThrow(named)
      expect(() => mq.topic(name).subscribe('s', () => {}, unknown)).toThrow(named)
      expect(() => mq.requester(name, unknown)).toThrow(named)
      expect(() => mq.responder(name, unknown)).toThrow(named)
      expect(() => mq.queue(name, unknown)).toThrow(ConfigError)
      // The options this suite runs with are among the allowed ones.
      mq.queue(name, h.target.queueOptions)
    })

    const keyOrder = h.target.capabilities.ordering === 'key'
    it(`${keyOrder ? 'accepts' : 'refuses'} ordered: true at the call (ordering: '${h.target.capabilities.ordering}')`, async () => {
      const mq = await h.connect()
      const make = () => mq.queue(uniqueName('ordered'), { ...h.target.queueOptions, ordered: true })
      if (keyOrder) make()
      else expect(make).toThrow(UnsupportedFeatureError)
    })
  })
}
