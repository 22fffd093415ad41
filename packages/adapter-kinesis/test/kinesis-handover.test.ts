import { brokerUrl, uniqueName } from '@anymq/conformance'
import { type Anymq, connect, type Message } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_KINESIS_URL')
const leaseMs = 1500

/**
 * A worker that joins a group whose shards another worker holds takes its fair share: the holder
 * hands a shard over only once the records it gave its handlers are done, so no record (and no
 * key) is in two workers' handlers at once.
 */
describe.skipIf(!url)(`kinesis lease hand-over against the broker${!url ? ' (ANYMQ_KINESIS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  const open: Anymq[] = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
  })
  async function connectTo(): Promise<Anymq> {
    const mq = await connect(`${url}&leaseMs=${leaseMs}&pollMs=100`, { adapter })
    open.push(mq)
    return mq
  }

  it('takes a shard from a busy worker only after its handlers finished the records of that shard', async () => {
    const [producer, first, second] = [await connectTo(), await connectTo(), await connectTo()]
    const name = uniqueName('handover')
    const keys = Array.from({ length: 8 }, (_, index) => `key-${index}`) // both shards get some
    await producer.queue<string>(name).sendBatch(keys, (key) => ({ key }))

    const running = new Map<string, string>()
    const overlaps: string[] = []
    const handled = new Set<string>()
    let openGate!: () => void
    const gate = new Promise<void>((resolve) => {
      openGate = resolve
    })
    const handler = (worker: string) => async (message: Message<string>) => {
      if (running.has(message.id)) overlaps.push(`${message.body} in ${running.get(message.id)} and ${worker}`)
      running.set(message.id, worker)
      await gate
      running.delete(message.id)
      handled.add(message.body)
    }
    await first.queue<string>(name).consume(handler('first'), { concurrency: 16 }).ready
    const until = Date.now() + 20_000
    while (running.size < keys.length && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(running.size).toBe(keys.length) // the first worker holds both shards, every record in a handler

    await second.queue<string>(name).consume(handler('second'), { concurrency: 16 }).ready
    // Before the fix the second worker stole a shard at once and ran its records again, beside the first.
    await new Promise((resolve) => setTimeout(resolve, 3 * leaseMs))
    openGate()
    while (handled.size < keys.length && Date.now() < until + 10_000) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(overlaps).toEqual([])
    expect([...handled].sort()).toEqual([...keys].sort())
  }, 60_000)
})
