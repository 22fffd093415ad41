import { brokerUrl, Collector, deferred, uniqueName } from '@anymq/conformance'
import { connect, type Message, transportOf } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

describe.skipIf(!url)(`gcp-pubsub leases${!url ? ' (ANYMQ_PUBSUB_URL unset: run scripts/brokers.sh up pubsub)' : ''}`, () => {
  // The conformance case starts the rescuer within the lease; under load it came only after, and the
  // redelivery went to the holder's open but unread stream: a delivery nobody saw (attempt 3, not 2),
  // and pstest kept sending it back to that stream every 10 s.
  it('hands a message held past its lease to a consumer that starts after the lease ran out, as attempt 2', async () => {
    const holder = await connect(url as string, { adapter })
    const rescuer = await connect(url as string, { adapter })
    try {
      const name = uniqueName('late-rescuer')
      const leaseMs = 1000
      const held = new Collector<string>()
      const started = deferred()
      await holder.queue<string>(name).consume(
        async (message: Message<string>) => {
          held.add(message)
          started.resolve()
          await new Promise<void>(() => {})
        },
        { leaseMs, ack: 'manual' },
      ).ready
      await holder.queue<string>(name).send('held')
      await started.promise
      // Only the holder is subscribed while its lease runs out, so the server redelivers with no one else to choose.
      await new Promise((resolve) => setTimeout(resolve, leaseMs * 3))
      const rescued = new Collector<string>()
      await rescuer.queue<string>(name).consume(rescued.handler, { leaseMs: 5000 }).ready
      await rescued.waitForCount(1, 30_000)
      expect(rescued.bodies).toEqual(['held'])
      expect(rescued.items[0]?.attempt).toBe(2)
      expect(held.items.map((message) => message.attempt)).toEqual([1])
    } finally {
      await transportOf(holder).terminate()
      await rescuer.close()
    }
  }, 60_000)

  // A message waiting behind a busy handler kept the deadline it came with: past it the server gave it to
  // a consumer that had come meanwhile (attempt 2), and the first consumer still handed it and acked it with
  // its dead ack id (pstest ignores an ack with an expired ack id only once the message went out again).
  it('hands a message that waited longer than its deadline for a busy handler once, as attempt 1', async () => {
    const busy = await connect(url as string, { adapter })
    const latecomer = await connect(url as string, { adapter })
    try {
      const name = uniqueName('waiting')
      const leaseMs = 2000
      const seen = new Collector<string>()
      const started = deferred()
      const firstDone = deferred()
      await busy.queue<string>(name).consume(
        async (message: Message<string>) => {
          seen.add(message)
          if (message.body === 'first') {
            started.resolve()
            // Four leases, each extended before it runs out, while 'second' waits.
            for (let held = 0; held < 4 * leaseMs; held += leaseMs / 2) {
              await new Promise((resolve) => setTimeout(resolve, leaseMs / 2))
              await message.extendLease(leaseMs)
            }
          }
          await message.ack()
          if (message.body === 'first') firstDone.resolve()
        },
        { leaseMs, ack: 'manual', concurrency: 1 },
      ).ready
      await busy.queue<string>(name).send('first')
      await started.promise
      await busy.queue<string>(name).send('second')
      // By now 'second' waits in the busy consumer, and its first deadline (one lease) has run out.
      await new Promise((resolve) => setTimeout(resolve, leaseMs * 2))
      await latecomer.queue<string>(name).consume(seen.handler, { leaseMs }).ready
      await seen.waitForDistinct(2, 30_000)
      await busy.queue<string>(name).send('third')
      await seen.waitForDistinct(3, 30_000)
      // The busy consumer's slot is free: what it kept waiting is handed now.
      await firstDone.promise
      // Another lease for a redelivery to show.
      await new Promise((resolve) => setTimeout(resolve, leaseMs * 1.5))
      expect(seen.items.map((message) => [message.body, message.attempt]).sort()).toEqual([
        ['first', 1],
        ['second', 1],
        ['third', 1],
      ])
    } finally {
      await busy.close()
      await latecomer.close()
    }
  }, 60_000)
})
