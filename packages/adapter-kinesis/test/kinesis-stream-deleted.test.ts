import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { type Anymq, connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_KINESIS_URL')

/**
 * A stream (and its lease table) deleted behind a connection's back, by another process's delete()
 * or an emulator restarting empty: the connection provisions them again, as the SQS adapter does.
 */
describe.skipIf(!url)(`kinesis stream deleted behind the connection${!url ? ' (ANYMQ_KINESIS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  const open: Anymq[] = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
  })
  async function connectTo(): Promise<Anymq> {
    const mq = await connect(`${url}&leaseMs=1500&pollMs=100`, { adapter })
    open.push(mq)
    return mq
  }

  it('sends again once another connection deleted the queue', async () => {
    const [producer, admin] = [await connectTo(), await connectTo()]
    const name = uniqueName('deleted-send')
    const queue = producer.queue<string>(name)
    await queue.send('before')
    await admin.queue(name).delete()
    // Before the fix every send failed with ResourceNotFoundException until a reconnect.
    await queue.send('after')
    const seen = new Collector<string>()
    await queue.consume(seen.handler).ready
    await seen.waitForCount(1, 20_000)
    expect(seen.bodies).toEqual(['after'])
  }, 60_000)

  it('keeps consuming once another connection deleted the queue and it is sent to again', async () => {
    const [worker, admin] = [await connectTo(), await connectTo()]
    const name = uniqueName('deleted-consume')
    const queue = worker.queue<string>(name)
    const seen = new Collector<string>()
    let noticed!: () => void
    const deletionNoticed = new Promise<void>((resolve) => {
      noticed = resolve
    })
    const onError = (error: Error) => {
      if (/ResourceNotFound/.test(error.message)) noticed()
    }
    await queue.consume(seen.handler, { onError }).ready
    await queue.send('before')
    await seen.waitForCount(1, 20_000)
    await admin.queue(name).delete()
    await deletionNoticed // the consumer has run into the missing stream
    await admin.queue<string>(name).send('after') // the other connection creates the stream again
    // Before the fix the consumer reported ResourceNotFoundException on every round and read nothing more.
    await seen.waitForCount(2, 20_000)
    expect(seen.bodies).toEqual(['before', 'after'])
  }, 60_000)
})
