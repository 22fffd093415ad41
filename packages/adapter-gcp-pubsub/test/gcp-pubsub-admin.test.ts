import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

// What the conformance admin group cannot reach here: it checks a subscription's purge only through
// stats(), which Pub/Sub does not serve, and lists names that need no escaping.
describe.skipIf(!url)(`gcp-pubsub admin${!url ? ' (ANYMQ_PUBSUB_URL unset: run scripts/brokers.sh up pubsub)' : ''}`, () => {
  it('purges one subscription and leaves the other its messages', async () => {
    const mq = await connect(url as string, { adapter })
    try {
      const topic = mq.topic<string>(uniqueName('purge-one'))
      const subscriptions = [topic.subscribe('kept', () => {}), topic.subscribe('purged', () => {})]
      await Promise.all(subscriptions.map((subscription) => subscription.ready))
      await Promise.all(subscriptions.map((subscription) => subscription.close()))
      await topic.publishBatch(['one', 'two'])
      await topic.purge('purged')
      await topic.publish('after')
      const [kept, purged] = [new Collector<string>(), new Collector<string>()]
      const consumers = [topic.subscribe('kept', kept.handler), topic.subscribe('purged', purged.handler)]
      await kept.waitForCount(3, 20_000)
      await purged.waitForCount(1, 20_000)
      await Promise.all(consumers.map((consumer) => consumer.close()))
      expect(kept.bodies.sort()).toEqual(['after', 'one', 'two'])
      expect(purged.bodies).toEqual(['after'])
    } finally {
      await mq.close()
    }
  })

  it('lists names with dots by their anymq names and deletes a topic with every subscription of it', async () => {
    const mq = await connect(url as string, { adapter })
    try {
      const prefix = uniqueName('admin')
      await mq.queue<string>(`${prefix}.orders`, { deadLetter: false }).send('x')
      const topic = mq.topic<string>(`${prefix}.events`)
      const subscription = topic.subscribe('audit.v2', () => {}, { deadLetter: false })
      await subscription.ready
      await subscription.close()
      expect(await mq.list({ prefix })).toEqual([
        { kind: 'queue', name: `${prefix}.orders` },
        { kind: 'topic', name: `${prefix}.events` },
        { kind: 'subscription', name: 'audit.v2', topic: `${prefix}.events` },
      ])
      await topic.delete()
      expect(await mq.list({ prefix })).toEqual([{ kind: 'queue', name: `${prefix}.orders` }])
      await mq.queue(`${prefix}.orders`).delete()
      expect(await mq.list({ prefix })).toEqual([])
    } finally {
      await mq.close()
    }
  })
})
