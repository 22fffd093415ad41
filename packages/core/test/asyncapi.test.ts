import { Parser } from '@asyncapi/parser'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { adapter as kafka } from '../../adapter-kafka/src/index.js'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { adapter as rabbitmq } from '../../adapter-rabbitmq/src/index.js'
import { type Anymq, type AsyncApiDocument, ConfigError, cloudEvents, connect } from '../src/index.js'
import type { AdapterFactory } from '../src/spi/index.js'

const Order = z.object({ orderId: z.string(), quantity: z.number().int().min(1) })
const PriceQuery = z.object({ sku: z.string() })
const Price = z.object({ sku: z.string(), cents: z.number().int() })
const open: Anymq[] = []

afterEach(async () => {
  await Promise.all(open.splice(0).map((mq) => mq.close()))
})

/** The demo's shape: an ordered queue with a schema and its workers, a topic with two subscriptions, request/reply. */
async function declareApplication(factory: AdapterFactory, url: string): Promise<Anymq> {
  const mq = await connect(url, { adapter: factory })
  open.push(mq)
  const orders = mq.queue('orders', { schema: Order })
  await orders.consume(async () => {}).ready
  const events = mq.topic('order-events', { codec: cloudEvents() })
  await events.subscribe('invoicing', async () => {}).ready
  await events.subscribe(undefined, async () => {}).ready
  mq.responder('pricing', { requestSchema: PriceQuery, responseSchema: Price }).serve(async (query) => ({ sku: query.sku, cents: 100 }))
  mq.requester('pricing', { requestSchema: PriceQuery, responseSchema: Price })
  return mq
}

// One parser for the file: building its rulesets is most of what a parse costs.
const parser = new Parser()

/** Errors (severity 0) the official parser reports, as readable lines, and the parsed document. */
async function parse(document: AsyncApiDocument) {
  const { document: parsed, diagnostics } = await parser.parse(JSON.stringify(document))
  const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 0).map((diagnostic) => `${diagnostic.path.join('.')}: ${diagnostic.message}`)
  return { errors, parsed }
}

async function parserErrors(document: AsyncApiDocument): Promise<string[]> {
  return (await parse(document)).errors
}

describe('mq.asyncapi()', () => {
  it('describes queues, topics, subscriptions and request/reply with JSON Schemas, and the official parser accepts it', async () => {
    const mq = await declareApplication(memory, 'memory://')
    const document = mq.asyncapi({ title: 'Order processing', version: '1.2.0' })
    const { errors, parsed } = await parse(document)
    expect(errors).toEqual([])
    expect(
      parsed
        ?.channels()
        .all()
        .map((channel) => channel.address())
        .sort((a, b) => String(a).localeCompare(String(b))),
    ).toEqual([null, 'order-events', 'orders', 'pricing'])
    const channels = document.channels as Record<string, { messages: Record<string, { payload: unknown; contentType: string }> }>
    expect(channels.orders?.messages.message?.payload).toEqual({
      type: 'object',
      properties: { orderId: { type: 'string' }, quantity: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
      required: ['orderId', 'quantity'],
      additionalProperties: false,
    })
    expect(channels['order-events']?.messages.message?.contentType).toBe('application/json')
    expect(channels['pricing.reply']?.messages.response?.payload).toMatchObject({ properties: { cents: { type: 'integer' } } })
    expect(Object.keys(document.operations as object).sort()).toEqual([
      'publish.order-events',
      'receive.order-events.ephemeral',
      'receive.order-events.invoicing',
      'receive.orders',
      'request.pricing',
      'send.orders',
      'serve.pricing',
    ])
    expect((document.operations as Record<string, { reply?: { address: { location: string } } }>)['request.pricing']?.reply?.address.location).toBe(
      '$message.header#/replyTo',
    )
  })

  it("carries the adapter's protocol and bindings (RabbitMQ, Kafka), never the URL's credentials, and still validates", async () => {
    // The brokers' bindings on the memory transport: the document depends on the declarations and the factory only.
    const asRabbit = await declareApplication({ ...memory, asyncApi: rabbitmq.asyncApi }, 'memory://')
    const rabbitDocument = asRabbit.asyncapi({ title: 'shop', version: '1' })
    expect(await parserErrors(rabbitDocument)).toEqual([])
    const rabbitChannels = rabbitDocument.channels as Record<string, { bindings?: { amqp?: { is: string } } }>
    expect(rabbitChannels.orders?.bindings?.amqp?.is).toBe('queue')
    expect(rabbitChannels['order-events']?.bindings?.amqp?.is).toBe('routingKey')

    const asKafka = await declareApplication({ ...memory, asyncApi: kafka.asyncApi }, 'memory://')
    const kafkaDocument = asKafka.asyncapi({ title: 'shop', version: '1', description: 'the demo' })
    expect(await parserErrors(kafkaDocument)).toEqual([])
    const servers = kafkaDocument.servers as Record<string, { protocol: string; bindings?: unknown }>
    expect(servers.broker?.protocol).toBe('kafka')
    const receive = (kafkaDocument.operations as Record<string, { bindings?: { kafka?: { groupId?: { enum: string[] } } } }>)['receive.order-events.invoicing']
    expect(receive?.bindings?.kafka?.groupId?.enum).toEqual(['anymq:subscription:order-events:invoicing'])
  })

  it('leaves credentials out of the server and refuses info without a title', async () => {
    const mq = await connect('memory://user:secret@localhost/x', { adapter: memory })
    open.push(mq)
    const text = JSON.stringify(mq.asyncapi({ title: 't', version: '1' }))
    expect(text).not.toContain('secret')
    expect(text).not.toContain('user')
    expect(() => mq.asyncapi({ version: '1' } as never)).toThrow(ConfigError)
  })
})
