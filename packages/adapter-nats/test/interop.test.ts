import { brokerUrl, Collector, describeForeignMessages, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { headers, type NatsConnection, connect as natsConnect } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adapter, escapeName } from '../src/index.js'

const url = brokerUrl('ANYMQ_NATS_URL')

/** The NATS JavaScript client on its own, no anymq code in between: what another service would run. */
describe.skipIf(!url)(`nats interop with the plain NATS client${!url ? ' (ANYMQ_NATS_URL unset: run scripts/brokers.sh up nats)' : ''}`, () => {
  let raw: NatsConnection
  beforeAll(async () => {
    raw = await natsConnect({ servers: new URL(url as string).host })
  })
  afterAll(async () => {
    await raw?.close()
  })

  it('consumes a message another client published to the queue subject, headers and all', async () => {
    const mq = await connect(url as string, { adapter })
    try {
      const name = uniqueName('raw-in')
      const seen = new Collector<{ sku: string }>()
      await mq.queue<{ sku: string }>(name).consume(seen.handler).ready
      const header = headers()
      header.set('x-anymq-content-type', 'application/json')
      header.set('x-anymq-key', 'customer-9')
      header.set('tenant', 'acme')
      const ack = await jetstream(raw).publish(`anymq.q.${escapeName(name)}`, JSON.stringify({ sku: 'A-1' }), { headers: header })
      await seen.waitForCount(1, 10_000)
      const message = seen.items[0]
      expect(message?.body).toEqual({ sku: 'A-1' })
      expect(message?.key).toBe('customer-9')
      expect(message?.headers).toEqual({ tenant: 'acme' })
      expect(message?.attempt).toBe(1)
      expect(ack.stream).toBe(`ANYMQ_Q_${escapeName(name)}`)
    } finally {
      await mq.close()
    }
  })

  it('publishes topic messages another client reads from the stream with their headers', async () => {
    const mq = await connect(url as string, { adapter })
    try {
      const topic = mq.topic<{ total: number }>(uniqueName('raw-out'))
      await topic.subscribe('anymq-side', () => {}).ready
      await topic.publish({ total: 42 }, { key: 'order-7', headers: { tenant: 'acme', note: ' padded\nvalue ' } })
      const stream = `ANYMQ_T_${escapeName(topic.name)}`
      const manager = await jetstreamManager(raw)
      await manager.consumers.add(stream, { durable_name: 'outsider', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All })
      const consumer = await jetstream(raw).consumers.get(stream, 'outsider')
      const message = await consumer.next({ expires: 5000 })
      expect(message?.json()).toEqual({ total: 42 })
      expect(message?.subject).toBe(`anymq.t.${escapeName(topic.name)}.all`)
      expect(message?.headers?.get('x-anymq-key')).toBe('order-7')
      expect(message?.headers?.get('tenant')).toBe('acme')
      // A value NATS cannot carry as it is travels base64-encoded and is named in x-anymq-encoded.
      expect(message?.headers?.get('x-anymq-encoded')).toBe('note')
      expect(Buffer.from(message?.headers?.get('note') ?? '', 'base64').toString()).toBe(' padded\nvalue ')
      message?.ack()
    } finally {
      await mq.close()
    }
  })

  it('never shows the password of the URL in a connection error', async () => {
    const secret = 'pw-3f9c1d7e5b'
    const error = await connect(`nats://someone:${secret}@127.0.0.1:1?connectTimeoutMs=500`, { adapter }).catch((caught: unknown) => caught)
    expect((error as { code?: string }).code).toBe('ERR_CONNECTION')
    expect(`${String(error)} ${(error as Error).stack} ${JSON.stringify(error)}`).not.toContain(secret)
  })
})

// The publisher is the NATS JavaScript client on its own: the `nats` CLI is not packaged for Debian,
// and like amqplib for RabbitMQ, a raw client is what another service would run.
describe.skipIf(!url)(`nats foreign messages from the plain NATS client${!url ? ' (ANYMQ_NATS_URL unset: run scripts/brokers.sh up nats)' : ''}`, () => {
  describeForeignMessages({
    name: 'nats (plain @nats-io JetStream publish)',
    connect: () => connect(url as string, { adapter }),
    inject: async (queue, malformed, foreign) => {
      const raw = await natsConnect({ servers: new URL(url as string).host })
      try {
        const subject = `anymq.q.${escapeName(queue)}`
        await jetstream(raw).publish(subject, malformed.body)
        const header = headers()
        for (const [name, value] of Object.entries(foreign.headers)) header.set(name, value)
        // A header anymq never writes, repeated: NATS headers may hold several values.
        header.append('x-repeated', 'one')
        header.append('x-repeated', 'two')
        await jetstream(raw).publish(subject, foreign.body, { headers: header })
      } finally {
        await raw.close()
      }
    },
  })
})
