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
})
