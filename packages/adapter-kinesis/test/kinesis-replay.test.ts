import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { connect, silentLogger } from '@anymq/core'
import { afterAll, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const base = brokerUrl('ANYMQ_KINESIS_URL')
// One shard, so sequence numbers order every record of the topic.
const url = base && `${base}&pollMs=100&shards=1`

describe.skipIf(!url)(`kinesis replay with startAt${!url ? ' (ANYMQ_KINESIS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  const open: Array<{ close(): Promise<void> }> = []
  afterAll(async () => {
    await Promise.allSettled(open.map((mq) => mq.close()))
  })

  it('starts a new group at a timestamp, and at a sequence number of a shard', async () => {
    const mq = await connect(url as string, { adapter, logger: silentLogger })
    open.push(mq)
    const topic = mq.topic<string>(uniqueName('replay'))
    // A group that records where each message is, so the cases below can point at it.
    const positions = new Collector<string>()
    await topic.subscribe('positions', positions.handler, { startFrom: 'earliest' }).ready
    await topic.publish('old')
    await positions.waitForCount(1, 20_000)
    // Kinesis arrival times are the server's; the gap keeps 'old' strictly before the timestamp.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const between = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await topic.publishBatch(['new-1', 'new-2'])
    await positions.waitForCount(3, 20_000)

    const fromTime = new Collector<string>()
    await topic.subscribe('from-time', fromTime.handler, { broker: { startAt: { timestamp: between } } }).ready
    await fromTime.waitForCount(2, 20_000)
    expect(fromTime.bodies).toEqual(['new-1', 'new-2'])

    const second = positions.items.find((message) => message.body === 'new-1')?.raw as { SequenceNumber: string; shardId: string }
    const fromSequence = new Collector<string>()
    await topic.subscribe('from-sequence', fromSequence.handler, { broker: { startAt: { sequenceNumbers: { [second.shardId]: second.SequenceNumber } } } })
      .ready
    await fromSequence.waitForCount(2, 20_000)
    expect(fromSequence.bodies).toEqual(['new-1', 'new-2'])
  })
})
