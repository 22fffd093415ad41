import { randomBytes } from 'node:crypto'
import { brokerUrl, Collector } from '@anymq/conformance'
import { type CloudEvent as AnymqCloudEvent, cloudEvents, connect } from '@anymq/core'
import amqplib from 'amqplib'
import { CloudEvent, HTTP } from 'cloudevents'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_RABBITMQ_URL')

interface Order {
  orderId: string
  amount: number
}

function uniqueName(prefix: string): string {
  return `ce-interop-${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/**
 * CloudEvents interop over a plain amqplib client, after the CloudEvents AMQP protocol binding
 * (attributes as `cloudEvents:`-prefixed application properties, datacontenttype as the content-type
 * property; structured mode as `application/cloudevents+json`). The official SDK has no AMQP binding:
 * it makes and checks the events, amqplib carries them with the binding's headers.
 */
describe.skipIf(!url)(`rabbitmq CloudEvents interop (AMQP binding) with amqplib and the cloudevents SDK${!url ? ' (ANYMQ_RABBITMQ_URL unset)' : ''}`, () => {
  const cleanups: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  })

  async function plainChannel(): Promise<amqplib.ConfirmChannel> {
    const connection = await amqplib.connect(url as string)
    connection.on('error', () => {})
    cleanups.push(() => connection.close())
    return connection.createConfirmChannel()
  }

  async function consumeWithAnymq(name: string): Promise<Collector<AnymqCloudEvent<Order>>> {
    const mq = await connect(url as string, { adapter })
    cleanups.push(() => mq.close())
    const received = new Collector<AnymqCloudEvent<Order>>()
    await mq.queue<AnymqCloudEvent<Order>>(name, { codec: cloudEvents() }).consume(received.handler).ready
    return received
  }

  /** The AMQP binding's binary mode, written by hand: every attribute but data and datacontenttype as `<prefix><name>`. */
  function binaryHeaders(event: CloudEvent<unknown>, prefix: string): Record<string, string> {
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(event.toJSON()))
      if (name !== 'data' && name !== 'data_base64' && name !== 'datacontenttype' && value !== undefined) headers[`${prefix}${name}`] = String(value)
    return headers
  }

  /** Reads one message of a queue with amqplib. */
  async function getOne(name: string): Promise<amqplib.GetMessage> {
    const channel = await plainChannel()
    for (let attempt = 0; attempt < 50; attempt++) {
      const message = await channel.get(name, { noAck: true })
      if (message !== false) return message
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    throw new Error(`no message on ${name}`)
  }

  for (const prefix of ['cloudEvents:', 'cloudEvents_']) {
    it(`foreign producer → anymq, binary mode with '${prefix}' application properties`, async () => {
      const name = uniqueName('in-bin')
      const received = await consumeWithAnymq(name)
      const event = new CloudEvent<Order>({
        source: '/amqp/orders',
        type: 'com.example.order.created',
        subject: 'o-1',
        datacontenttype: 'application/json',
        tenant: 'acme',
        data: { orderId: 'o-1', amount: 10 },
      })
      const channel = await plainChannel()
      channel.sendToQueue(name, Buffer.from(JSON.stringify(event.data)), {
        contentType: 'application/json',
        headers: binaryHeaders(event, prefix),
        persistent: true,
      })
      await channel.waitForConfirms()
      await received.waitForCount(1, 15_000)
      expect(received.items[0]!.body).toEqual({
        specversion: '1.0',
        id: event.id,
        source: '/amqp/orders',
        type: 'com.example.order.created',
        subject: 'o-1',
        time: event.time,
        datacontenttype: 'application/json',
        tenant: 'acme',
        data: { orderId: 'o-1', amount: 10 },
      })
    })
  }

  it('foreign producer → anymq, structured mode: the SDK-serialized event as application/cloudevents+json', async () => {
    const name = uniqueName('in-str')
    const received = await consumeWithAnymq(name)
    const event = new CloudEvent<Order>({ source: '/amqp/orders', type: 'com.example.order.paid', tenant: 'acme', data: { orderId: 'o-2', amount: 3 } })
    const structured = HTTP.structured(event)
    const channel = await plainChannel()
    channel.sendToQueue(name, Buffer.from(structured.body as string), { contentType: structured.headers['content-type'] as string, persistent: true })
    await channel.waitForConfirms()
    await received.waitForCount(1, 15_000)
    expect(received.items[0]!.body).toMatchObject({
      id: event.id,
      type: 'com.example.order.paid',
      time: event.time,
      tenant: 'acme',
      data: { orderId: 'o-2', amount: 3 },
    })
  })

  it('anymq → foreign consumer, binary mode: cloudEvents: headers and the content-type property make a valid SDK event', async () => {
    const name = uniqueName('out-bin')
    const mq = await connect(url as string, { adapter })
    cleanups.push(() => mq.close())
    await mq.queue<AnymqCloudEvent<Order>>(name, { codec: cloudEvents({ mode: 'binary' }) }).send({
      id: 'evt-out-1',
      source: '/anymq/orders',
      type: 'com.example.order.shipped',
      time: '2026-02-01T10:00:00.000Z',
      tenant: 'acme',
      data: { orderId: 'o-3', amount: 7.5 },
    })
    const message = await getOne(name)
    const headers = message.properties.headers as Record<string, unknown>
    expect(headers['cloudEvents:specversion']).toBe('1.0')
    expect(headers['cloudEvents:id']).toBe('evt-out-1')
    expect(message.properties.contentType).toBe('application/json')
    // The SDK reads the binding's attributes once mapped to its own (HTTP) header names.
    const sdkHeaders: Record<string, string> = { 'content-type': message.properties.contentType as string }
    for (const [header, value] of Object.entries(headers))
      if (header.startsWith('cloudEvents:')) sdkHeaders[`ce-${header.slice('cloudEvents:'.length)}`] = String(value)
    const event = HTTP.toEvent({ headers: sdkHeaders, body: message.content.toString() }) as CloudEvent<Order>
    expect(event.validate()).toBe(true)
    expect(event.id).toBe('evt-out-1')
    expect(event.type).toBe('com.example.order.shipped')
    expect(event.time).toBe('2026-02-01T10:00:00.000Z')
    expect(event.tenant).toBe('acme')
    expect(event.data).toEqual({ orderId: 'o-3', amount: 7.5 })
  })

  it('anymq → foreign consumer, structured mode: the SDK parses the body as the JSON event format', async () => {
    const name = uniqueName('out-str')
    const mq = await connect(url as string, { adapter })
    cleanups.push(() => mq.close())
    await mq.queue<AnymqCloudEvent<Order>>(name, { codec: cloudEvents({ mode: 'structured' }) }).send({
      id: 'evt-out-2',
      source: '/anymq/orders',
      type: 'com.example.order.cancelled',
      tenant: 'acme',
      data: { orderId: 'o-4', amount: 1 },
    })
    const message = await getOne(name)
    expect(message.properties.contentType).toMatch(/^application\/cloudevents\+json/)
    const event = HTTP.toEvent({ headers: { 'content-type': message.properties.contentType as string }, body: message.content.toString() }) as CloudEvent<Order>
    expect(event.validate()).toBe(true)
    expect(event.id).toBe('evt-out-2')
    expect(event.tenant).toBe('acme')
    expect(event.data).toEqual({ orderId: 'o-4', amount: 1 })
  })
})
