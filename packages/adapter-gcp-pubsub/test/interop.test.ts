import { brokerUrl, Collector, describeForeignMessages, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { PubSub } from '@google-cloud/pubsub'
import { afterAll, describe, expect, it } from 'vitest'
import { adapter, escapeName } from '../src/index.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

/** The Pub/Sub client's own high-level API, no anymq code in between: what another service would run. */
describe.skipIf(!url)(`gcp-pubsub interop with the plain Pub/Sub client${!url ? ' (ANYMQ_PUBSUB_URL unset: run scripts/brokers.sh up pubsub)' : ''}`, () => {
  const parsed = new URL(url ?? 'gcp-pubsub://placeholder')
  const client = new PubSub({ projectId: parsed.hostname, apiEndpoint: parsed.searchParams.get('endpoint') ?? undefined })
  afterAll(async () => {
    await client.close()
  })

  it('consumes a message another client published to the queue topic, attributes and all', async () => {
    const mq = await connect(url as string, { adapter })
    try {
      const name = uniqueName('raw-in')
      const seen = new Collector<{ sku: string }>()
      await mq.queue<{ sku: string }>(name).consume(seen.handler).ready
      await client.topic(`anymq.q.${escapeName(name)}`).publishMessage({
        data: Buffer.from(JSON.stringify({ sku: 'A-1' })),
        attributes: { 'x-anymq-content-type': 'application/json', tenant: 'acme' },
      })
      await seen.waitForCount(1, 10_000)
      const message = seen.items[0]
      expect(message?.body).toEqual({ sku: 'A-1' })
      expect(message?.headers).toEqual({ tenant: 'acme' })
      expect(message?.attempt).toBe(1)
    } finally {
      await mq.close()
    }
  })

  it('publishes topic messages another client reads from its own subscription, key as ordering key', async () => {
    const mq = await connect(url as string, { adapter })
    try {
      const topic = mq.topic<{ total: number }>(uniqueName('raw-out'))
      await topic.subscribe('anymq-side', () => {}).ready
      const [subscription] = await client.topic(`anymq.t.${escapeName(topic.name)}`).createSubscription(uniqueName('outsider'))
      const received = new Promise<import('@google-cloud/pubsub').Message>((resolve) => subscription.once('message', resolve))
      await topic.publish({ total: 42 }, { key: 'order-7', headers: { tenant: 'acme' } })
      const message = await received
      message.ack()
      await subscription.close()
      expect(JSON.parse(message.data.toString())).toEqual({ total: 42 })
      expect(message.orderingKey).toBe('order-7')
      expect(message.attributes.tenant).toBe('acme')
      expect(message.attributes['x-anymq-content-type']).toBe('application/json')
    } finally {
      await mq.close()
    }
  })

  it('refuses a project id that is not one with a ConfigError naming the field', async () => {
    const error = await connect('gcp-pubsub://Not_A_Project', { adapter }).catch((caught: unknown) => caught)
    expect((error as { code?: string }).code).toBe('ERR_CONFIG')
    expect(String(error)).toContain('url host')
  })
})

// The publisher is the Pub/Sub client's own API (gcloud is not on Debian's mirrors, and pstest is not
// something it would reach without configuration of its own).
describe.skipIf(!url)(
  `gcp-pubsub foreign messages from the plain Pub/Sub client${!url ? ' (ANYMQ_PUBSUB_URL unset: run scripts/brokers.sh up pubsub)' : ''}`,
  () => {
    describeForeignMessages({
      name: 'gcp-pubsub (plain @google-cloud/pubsub publish)',
      connect: () => connect(url as string, { adapter }),
      inject: async (queue, malformed, foreign) => {
        const parsed = new URL(url as string)
        const client = new PubSub({ projectId: parsed.hostname, apiEndpoint: parsed.searchParams.get('endpoint') ?? undefined })
        try {
          const topic = client.topic(`anymq.q.${escapeName(queue)}`)
          await topic.publishMessage({ data: Buffer.from(malformed.body) })
          // Attributes anymq never writes beside the foreign ones: a packed-headers piece that is not base64 JSON.
          await topic.publishMessage({ data: Buffer.from(foreign.body), attributes: { ...foreign.headers, 'x-anymq-headers-0': '%%not base64%%' } })
        } finally {
          await client.close()
        }
      },
    })
  },
)
