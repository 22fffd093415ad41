import { brokerUrl, uniqueName } from '@anymq/conformance'
import { connect, silentLogger } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const base = brokerUrl('ANYMQ_KINESIS_URL')
const url = base && `${base}&pollMs=100&shards=1`

// What the conformance admin group does not reach: a queue and a topic of one name share one stream,
// and a subscription with a dot in its name (its lease table is `anymq-leases.<stream>.<group>`).
describe.skipIf(!url)(`kinesis admin${!url ? ' (ANYMQ_KINESIS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  it('lists a queue and a topic sharing a stream, and a subscription with a dot in its name, and deletes them', async () => {
    const mq = await connect(url as string, { adapter, logger: silentLogger })
    try {
      const prefix = uniqueName('admin')
      const shared = `${prefix}.shared`
      await mq.queue<string>(shared, { deadLetter: false }).send('as a queue')
      await mq.topic<string>(shared).publish('as a topic')
      const events = mq.topic<string>(`${prefix}.events`)
      const subscription = events.subscribe('audit.v2', () => {}, { deadLetter: false })
      await subscription.ready
      await subscription.close()
      expect(await mq.list({ prefix })).toEqual([
        { kind: 'queue', name: shared },
        { kind: 'topic', name: `${prefix}.events` },
        { kind: 'topic', name: shared },
        { kind: 'subscription', name: 'audit.v2', topic: `${prefix}.events` },
      ])
      // The queue's delete takes the shared stream: the topic of that name goes with it.
      await mq.queue(shared).delete()
      expect(await mq.list({ prefix })).toEqual([
        { kind: 'topic', name: `${prefix}.events` },
        { kind: 'subscription', name: 'audit.v2', topic: `${prefix}.events` },
      ])
      await events.delete()
      expect(await mq.list({ prefix })).toEqual([])
    } finally {
      await mq.close()
    }
  })
})
