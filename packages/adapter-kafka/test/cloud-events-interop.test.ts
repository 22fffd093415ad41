import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { type Anymq, type CloudEvent as AnymqCloudEvent, cloudEvents, connect } from '@anymq/core'
import { CloudEvent, Kafka as CloudEventsKafka, type Message as KafkaEventMessage } from 'cloudevents'
import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_KAFKA_URL')

interface Order {
  orderId: string
  amount: number
}

/**
 * CloudEvents interop with the official JavaScript SDK (`cloudevents`) and its Kafka protocol
 * binding, over a plain kafkajs client: the SDK writes records anymq reads, and reads records anymq
 * wrote, in binary and structured mode.
 */
describe.skipIf(!url)(`kafka CloudEvents interop with the cloudevents SDK${!url ? ' (ANYMQ_KAFKA_URL unset: run scripts/brokers.sh up kafka)' : ''}`, () => {
  const cleanups: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  })

  function plainKafka(): Kafka {
    return new Kafka({ clientId: 'cloudevents-sdk', brokers: [new URL(url as string).host], logLevel: logLevel.NOTHING })
  }

  async function anymq(): Promise<Anymq> {
    const mq = await connect(url as string, { adapter })
    cleanups.push(() => mq.close())
    return mq
  }

  async function producer(): Promise<Producer> {
    const client = plainKafka().producer()
    await client.connect()
    cleanups.push(() => client.disconnect())
    return client
  }

  /** Sends what the SDK's Kafka binding made; kafkajs wants the value as bytes or a string. */
  async function sendSdkMessage(topic: string, message: KafkaEventMessage & { key?: string }): Promise<void> {
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(message.headers)) if (value !== undefined) headers[name] = String(value)
    const value = message.body
    await (await producer()).send({
      topic,
      acks: -1,
      messages: [{ key: message.key ?? null, value: typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value), headers }],
    })
  }

  /** Reads `count` records of a topic from its start with kafkajs, in the shape the SDK's `Kafka.toEvent` takes. */
  async function readWithSdk(topic: string): Promise<CloudEvent<unknown>> {
    const consumer: Consumer = plainKafka().consumer({ groupId: uniqueName('sdk-reader') })
    await consumer.connect()
    cleanups.push(() => consumer.disconnect())
    await consumer.subscribe({ topic, fromBeginning: true })
    const record = await new Promise<{ key: string | undefined; value: string; headers: Record<string, string> }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no record on ${topic} within 30 s`)), 30_000)
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer)
          const headers: Record<string, string> = {}
          for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value)
          resolve({ key: message.key?.toString(), value: message.value?.toString() ?? '', headers })
        },
      })
    })
    return CloudEventsKafka.toEvent({ ...record, body: record.value }) as CloudEvent<unknown>
  }

  it('SDK → anymq, binary mode: ce_ headers and content-type become the event, partitionkey the key', async () => {
    const mq = await anymq()
    const name = uniqueName('ce-sdk-bin')
    const received = new Collector<AnymqCloudEvent<Order>>()
    await mq.queue<AnymqCloudEvent<Order>>(name, { codec: cloudEvents() }).consume(received.handler).ready
    const event = new CloudEvent<Order>({
      source: '/sdk/orders',
      type: 'com.example.order.created',
      subject: 'o-1',
      datacontenttype: 'application/json',
      partitionkey: 'customer-9',
      tenant: 'acme',
      data: { orderId: 'o-1', amount: 10 },
    })
    await sendSdkMessage(name, CloudEventsKafka.binary(event) as KafkaEventMessage & { key?: string })
    await received.waitForCount(1, 30_000)
    const message = received.items[0]!
    expect(message.body).toEqual({
      specversion: '1.0',
      id: event.id,
      source: '/sdk/orders',
      type: 'com.example.order.created',
      subject: 'o-1',
      time: event.time,
      datacontenttype: 'application/json',
      partitionkey: 'customer-9',
      tenant: 'acme',
      data: { orderId: 'o-1', amount: 10 },
    })
    expect(message.key).toBe('customer-9')
  })

  it('SDK → anymq, structured mode: application/cloudevents+json in the content-type header', async () => {
    const mq = await anymq()
    const name = uniqueName('ce-sdk-str')
    const received = new Collector<AnymqCloudEvent<Order>>()
    await mq.queue<AnymqCloudEvent<Order>>(name, { codec: cloudEvents() }).consume(received.handler).ready
    const event = new CloudEvent<Order>({ source: '/sdk/orders', type: 'com.example.order.paid', tenant: 'acme', data: { orderId: 'o-2', amount: 3 } })
    await sendSdkMessage(name, CloudEventsKafka.structured(event) as KafkaEventMessage & { key?: string })
    await received.waitForCount(1, 30_000)
    expect(received.items[0]!.body).toMatchObject({
      specversion: '1.0',
      id: event.id,
      source: '/sdk/orders',
      type: 'com.example.order.paid',
      time: event.time,
      tenant: 'acme',
      data: { orderId: 'o-2', amount: 3 },
    })
  })

  for (const mode of ['binary', 'structured'] as const) {
    it(`anymq → SDK, ${mode} mode: the SDK reads every attribute, the extensions, the key and the JSON data`, async () => {
      const mq = await anymq()
      const name = uniqueName(`ce-out-${mode}`)
      await mq.queue<AnymqCloudEvent<Order>>(name, { codec: cloudEvents({ mode }) }).send({
        id: `evt-out-${mode}`,
        source: '/anymq/orders',
        type: 'com.example.order.shipped',
        subject: 'o-3',
        time: '2026-02-01T10:00:00.000Z',
        tenant: 'acme',
        partitionkey: 'customer-3',
        data: { orderId: 'o-3', amount: 7.5 },
      })
      const event = await readWithSdk(name)
      expect(event.validate()).toBe(true)
      expect(event.toJSON()).toMatchObject({
        specversion: '1.0',
        id: `evt-out-${mode}`,
        source: '/anymq/orders',
        type: 'com.example.order.shipped',
        subject: 'o-3',
        time: '2026-02-01T10:00:00.000Z',
        tenant: 'acme',
        partitionkey: 'customer-3',
        data: { orderId: 'o-3', amount: 7.5 },
      })
      if (mode === 'binary') expect(event.datacontenttype).toBe('application/json')
    })
  }
})
