import { randomBytes } from 'node:crypto'
import { brokerUrl, Collector, describeForeignMessages } from '@anymq/conformance'
import { connect } from '@anymq/core'
import amqplib from 'amqplib'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_RABBITMQ_URL')
const cleanups: Array<() => Promise<unknown>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
})

function uniqueName(prefix: string): string {
  return `interop-${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** A plain amqplib connection, no anymq code involved. */
async function plainChannel(): Promise<amqplib.ConfirmChannel> {
  const connection = await amqplib.connect(url!)
  connection.on('error', () => {})
  cleanups.push(() => connection.close())
  return connection.createConfirmChannel()
}

describe.skipIf(!url)(`rabbitmq interop with a plain amqplib client${!url ? ' (ANYMQ_RABBITMQ_URL unset: run scripts/brokers.sh up rabbitmq)' : ''}`, () => {
  it('an anymq consumer reads what a plain amqplib producer sent', async () => {
    const name = uniqueName('in')
    const mq = await connect(url!, { adapter })
    cleanups.push(() => mq.close())
    const seen = new Collector<{ sku: string; quantity: number }>()
    await mq.queue<{ sku: string; quantity: number }>(name).consume(seen.handler).ready

    const channel = await plainChannel()
    channel.sendToQueue(name, Buffer.from(JSON.stringify({ sku: 'A-1', quantity: 3 })), {
      messageId: 'foreign-1',
      correlationId: 'corr-9',
      contentType: 'application/json',
      timestamp: 1_700_000_000,
      persistent: true,
      headers: { tenant: 'acme', retries: 2, flag: true },
    })
    await channel.waitForConfirms()

    await seen.waitForCount(1, 10_000)
    const message = seen.items[0]
    expect(message?.body).toEqual({ sku: 'A-1', quantity: 3 })
    expect(message?.id).toBe('foreign-1')
    expect(message?.correlationId).toBe('corr-9')
    expect(message?.headers).toEqual({ tenant: 'acme', retries: '2', flag: 'true' })
    expect(message?.timestamp.getTime()).toBe(1_700_000_000_000)
    expect(message?.attempt).toBe(1)
    expect(message?.key).toBeUndefined()
  })

  it('keeps the exact value of 64-bit integer headers from another client, as decimal strings', async () => {
    const name = uniqueName('long')
    const mq = await connect(url!, { adapter })
    cleanups.push(() => mq.close())
    const seen = new Collector<string>()
    await mq.queue<string>(name).consume(seen.handler).ready

    const channel = await plainChannel()
    const count = 50
    for (let index = 0; index < count; index++) {
      // Bodies of 64 KiB make header frames land at every offset of the socket's chunks.
      channel.sendToQueue(name, Buffer.from(JSON.stringify(`${index}-${'x'.repeat(65_536)}`)), {
        contentType: 'application/json',
        headers: {
          nested: { inner: 1 },
          big: { '!': 'long', value: '1152921504606846977' },
          stamp: { '!': 'timestamp', value: 1_700_000_000 },
          negative: { '!': 'long', value: '-9223372036854775807' },
          small: { '!': 'long', value: '42' },
          after: 'still read',
        },
      })
    }
    await channel.waitForConfirms()

    await seen.waitForCount(count, 20_000)
    for (const message of seen.items) {
      expect(message.headers).toMatchObject({
        big: '1152921504606846977',
        negative: '-9223372036854775807',
        small: '42',
        stamp: '1700000000',
        after: 'still read',
      })
    }
  })

  it('a plain amqplib consumer reads what anymq sent', async () => {
    const name = uniqueName('out')
    const mq = await connect(url!, { adapter })
    cleanups.push(() => mq.close())
    const queue = mq.queue<{ sku: string }>(name)
    const before = Date.now()
    await queue.send({ sku: 'B-2' }, { id: 'anymq-1', correlationId: 'corr-7', key: 'customer-4', headers: { tenant: 'globex' } })

    const channel = await plainChannel()
    const received = await waitForGet(channel, name)
    expect(JSON.parse(received.content.toString('utf8'))).toEqual({ sku: 'B-2' })
    expect(received.properties.messageId).toBe('anymq-1')
    expect(received.properties.correlationId).toBe('corr-7')
    expect(received.properties.contentType).toBe('application/json')
    expect(received.properties.deliveryMode).toBe(2)
    expect(received.properties.timestamp).toBeGreaterThanOrEqual(Math.floor(before / 1000))
    expect(received.properties.headers).toMatchObject({ tenant: 'globex', 'x-anymq-key': 'customer-4' })
    expect(Number(received.properties.headers?.['x-anymq-timestamp'])).toBeGreaterThanOrEqual(before)
  })

  it("timestampPrecision 'seconds' writes no header table; both settings read what the other wrote", async () => {
    const name = uniqueName('seconds')
    const seconds = await connect(url!, { adapter, broker: { timestampPrecision: 'seconds' } })
    cleanups.push(() => seconds.close())
    const milliseconds = await connect(url!, { adapter })
    cleanups.push(() => milliseconds.close())
    const before = Date.now()
    await seconds.queue<{ n: number }>(name).send({ n: 1 })

    const channel = await plainChannel()
    const received = await waitForGet(channel, name)
    expect(received.properties.headers?.['x-anymq-timestamp']).toBeUndefined()
    expect(Object.keys(received.properties.headers ?? {})).toEqual([])
    expect(received.properties.timestamp).toBeGreaterThanOrEqual(Math.floor(before / 1000))

    // The default (the wire of every earlier version) still carries the milliseconds.
    await milliseconds.queue<{ n: number }>(name).send({ n: 2 }, { key: 'k' })
    await seconds.queue<{ n: number }>(name).send({ n: 3 })
    const seen = new Collector<{ n: number }>()
    await seconds.queue<{ n: number }>(name).consume(seen.handler).ready
    await seen.waitForCount(2, 10_000)
    const second = seen.items.find((message) => message.body.n === 2)
    const third = seen.items.find((message) => message.body.n === 3)
    expect((third?.timestamp.getTime() ?? 1) % 1000).toBe(0)
    expect(third?.timestamp.getTime() ?? 0).toBeGreaterThanOrEqual(received.properties.timestamp * 1000)
    expect(second?.key).toBe('k')
    expect(second?.timestamp.getTime() ?? 0).toBeGreaterThanOrEqual(before)
  })

  it('topic subjects are routing keys a plain amqplib binding can select', async () => {
    const topic = uniqueName('topic')
    const mq = await connect(url!, { adapter })
    cleanups.push(() => mq.close())
    const events = mq.topic<string>(topic, { codec: 'text' })
    // Publishing once declares the topic exchange (a durable topic exchange named after the topic).
    await events.publish('nobody listens yet', { subject: 'orders.eu.created' })

    const channel = await plainChannel()
    const { queue } = await channel.assertQueue('', { exclusive: true })
    await channel.bindQueue(queue, topic, 'orders.*.created')
    await events.publish('shipped', { subject: 'orders.eu.shipped' })
    await events.publish('created', { subject: 'orders.us.created' })

    const received = await waitForGet(channel, queue)
    expect(received.content.toString('utf8')).toBe('created')
    expect(received.fields.routingKey).toBe('orders.us.created')
    expect(received.properties.contentType).toBe('text/plain; charset=utf-8')
    expect(await channel.get(queue)).toBe(false)
  })
})

async function waitForGet(channel: amqplib.Channel, queue: string): Promise<amqplib.GetMessage> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const message = await channel.get(queue, { noAck: true })
    if (message) return message
    if (Date.now() > deadline) throw new Error(`nothing arrived on ${queue} within 10 s`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

// The publisher is plain amqplib, not rabbitmqadmin: RabbitMQ's own CLI publishes only through the
// management plugin, which scripts/brokers.sh leaves off by default (ANYMQ_RABBITMQ_MANAGEMENT=1).
describe.skipIf(!url)(
  `rabbitmq foreign messages from a plain amqplib client${!url ? ' (ANYMQ_RABBITMQ_URL unset: run scripts/brokers.sh up rabbitmq)' : ''}`,
  () => {
    describeForeignMessages({
      name: 'rabbitmq (plain amqplib publish)',
      connect: () => connect(url as string, { adapter }),
      inject: async (queue, malformed, foreign) => {
        const channel = await plainChannel()
        // The queue exists (the consumer declared it); the default exchange routes by its name.
        channel.publish('', queue, Buffer.from(malformed.body))
        // Foreign headers of every AMQP type anymq does not write: a number, a boolean, a nested table.
        const headers = { ...foreign.headers, 'x-count': 7, 'x-flag': true, 'x-table': { inner: 'v' } }
        channel.publish('', queue, Buffer.from(foreign.body), { headers, messageId: '', timestamp: 0, contentType: 'text/x-unknown' })
        await channel.waitForConfirms()
      },
    })
  },
)
