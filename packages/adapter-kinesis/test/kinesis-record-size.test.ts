import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { type Anymq, connect, MessageTooLargeError } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_KINESIS_URL')

describe.skipIf(!url)(`kinesis record size against the broker${!url ? ' (ANYMQ_KINESIS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  const open: Anymq[] = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
  })

  it('refuses a record its envelope makes too large with MessageTooLargeError, alone: the sends beside it go through', async () => {
    const mq = await connect(`${url}&leaseMs=1500&pollMs=100`, { adapter })
    open.push(mq)
    const queue = mq.queue<string>(uniqueName('record-size'))
    await queue.send('warm-up') // the stream exists; the next sends share one PutRecords round
    // Within maxMessageBytes as core counts body and headers, but every quote is escaped in the
    // envelope's JSON: the record is over Kinesis' 1 MiB.
    const oversized = { body: 'x'.repeat(1_000_000), headers: { quoted: '"'.repeat(40_000) } }
    const results = await Promise.allSettled([
      queue.send('before'),
      queue.send('beside-1'),
      queue.send(oversized.body, { headers: oversized.headers }),
      queue.send('beside-2'),
    ])
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
    const refusal = (results[2] as PromiseRejectedResult).reason
    expect(refusal).toBeInstanceOf(MessageTooLargeError)
    expect(refusal.sizeBytes).toBeGreaterThan(1_048_576)

    const seen = new Collector<string>()
    await queue.consume(seen.handler).ready
    await seen.waitForCount(4, 20_000)
    expect(seen.bodies.sort()).toEqual(['before', 'beside-1', 'beside-2', 'warm-up'])
  }, 60_000)
})
