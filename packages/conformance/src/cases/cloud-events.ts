import { type CloudEvent, cloudEvents, ValidationError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, type Harness, uniqueName } from '../harness.js'

interface Order {
  orderId: string
  amount: number
}

/** The header whose name ends with the attribute's name after the adapter's prefix (`ce-type`, `ce_type`, `cloudEvents:type`). */
function attributeHeader(headers: Readonly<Record<string, string>>, attribute: string): string | undefined {
  const name = Object.keys(headers).find((header) => /^(ce[-_]|cloudevents[:_])/i.test(header) && header.toLowerCase().endsWith(attribute))
  return name === undefined ? undefined : headers[name]
}

/** CloudEvents 1.0 through `cloudEvents()`: binary and structured mode, on a queue and a topic. */
export function cloudEventsCases(h: Harness): void {
  describe('CloudEvents', () => {
    // Eight attribute headers: SQS carries at most 10 message attributes (anymq uses one), so more would be refused there.
    it('round-trips a binary-mode event: attributes as headers, data as the body, id and partitionkey as message id and key', async () => {
      const mq = await h.connect()
      const queue = mq.queue<CloudEvent<Order>>(uniqueName('ce-bin'), { ...h.target.queueOptions, codec: cloudEvents({ mode: 'binary' }) })
      const collector = new Collector<CloudEvent<Order>>()
      await queue.consume(collector.handler).ready
      const sent: CloudEvent<Order> = {
        id: 'evt-1',
        source: '/orders/eu',
        type: 'com.example.order.created',
        time: '2026-01-31T12:00:00.123Z',
        subject: 'order-7',
        partitionkey: 'customer-1',
        retries: 3,
        data: { orderId: 'o-7', amount: 12.5 },
      }
      const { id } = await queue.send(sent)
      await collector.waitForCount(1, h.ms(10_000))
      const message = collector.items[0]!
      expect(id).toBe('evt-1')
      expect(message.id).toBe('evt-1')
      expect(message.key).toBe('customer-1')
      // Extension values come back as strings, as every binary binding carries them.
      expect(message.body).toEqual({ ...sent, specversion: '1.0', datacontenttype: 'application/json', retries: '3' })
      // Binary mode: the attributes are ordinary headers other clients read.
      expect(attributeHeader(message.headers, 'specversion')).toBe('1.0')
      expect(attributeHeader(message.headers, 'type')).toBe('com.example.order.created')
      expect(attributeHeader(message.headers, 'partitionkey')).toBe('customer-1')
    })

    it('round-trips structured-mode events on a topic: JSON data, text data, and bytes as data_base64', async () => {
      const mq = await h.connect()
      const topic = mq.topic<CloudEvent>(uniqueName('ce-str'), { codec: cloudEvents({ mode: 'structured' }) })
      const collector = new Collector<CloudEvent>()
      await topic.subscribe('audit', collector.handler).ready
      const bytes = new Uint8Array([0, 1, 2, 250, 255])
      await topic.publish({ id: 'j', source: 'urn:test', type: 'json', data: { list: [1, 'two', null] } })
      await topic.publish({ id: 't', source: 'urn:test', type: 'text', datacontenttype: 'text/plain', data: 'héllo ✓' })
      await topic.publish({ id: 'b', source: 'urn:test', type: 'bytes', datacontenttype: 'application/octet-stream', data: bytes, flag: false })
      await collector.waitForCount(3, h.ms(10_000))
      const byId = new Map(collector.items.map((message) => [message.body.id, message]))
      expect(byId.get('j')?.body).toEqual({ specversion: '1.0', id: 'j', source: 'urn:test', type: 'json', data: { list: [1, 'two', null] } })
      expect(byId.get('t')?.body.data).toBe('héllo ✓')
      const binary = byId.get('b')!.body
      expect(binary.flag).toBe(false)
      expect(binary.data).toBeInstanceOf(Uint8Array)
      expect(Buffer.from(binary.data as Uint8Array).toString('hex')).toBe(Buffer.from(bytes).toString('hex'))
      // Structured mode writes no attribute headers.
      expect(attributeHeader(byId.get('j')!.headers, 'specversion')).toBeUndefined()
    })

    it('refuses an event that breaks CloudEvents 1.0 with ValidationError naming each problem, sending nothing', async () => {
      const mq = await h.connect()
      const queue = mq.queue<CloudEvent>(uniqueName('ce-bad'), { ...h.target.queueOptions, codec: cloudEvents() })
      const error = await queue.send({ source: '', type: 'x', time: 'yesterday', Bad_Name: 1 } as CloudEvent).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ValidationError)
      const paths = (error as ValidationError).issues.map((issue) => issue.path?.[0])
      expect(paths).toEqual(expect.arrayContaining(['source', 'time', 'Bad_Name']))
      expect(paths).not.toContain('type')
    })
  })
}
