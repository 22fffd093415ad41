import { brokerUrl, deferred, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { redisCli } from './broker.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

// A handled delivery is acked through `ackNow` (it joins the turn's XACK, core awaits no promise of its own):
// the flush's failure has nobody awaiting it per message, so the consumer reports it itself.
describe.skipIf(!url).each(drivers)(
  'redis acks without a promise per message, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)',
  (driver) => {
    const redisUrl = url as string
    const open: Array<{ close(): Promise<void> }> = []
    afterEach(async () => {
      await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
    })

    it('reports a failed ack flush to onError once, naming the entry', async () => {
      const name = uniqueName('ack-now-fail')
      const stream = `anymq:q:${name}`
      const mq = await connect(withDriver(redisUrl, driver), { adapter })
      open.push(mq)
      const queue = mq.queue<string>(name)
      await queue.send('doomed')
      const errors: string[] = []
      const reported = deferred()
      const subscription = queue.consume(
        async () => {
          // The stream becomes a string before the ack: XACK and XDEL fail with WRONGTYPE.
          await redisCli(redisUrl, 'DEL', stream)
          await redisCli(redisUrl, 'SET', stream, 'not a stream')
        },
        {
          concurrency: 1,
          onError: (error) => {
            errors.push(error.message)
            if (error.message.includes('acknowledging')) reported.resolve()
          },
        },
      )
      await subscription.ready
      await reported.promise
      await subscription.close()
      await redisCli(redisUrl, 'DEL', stream)
      const ackErrors = errors.filter((message) => message.includes('acknowledging'))
      expect(ackErrors).toHaveLength(1)
      expect(ackErrors[0]).toMatch(new RegExp(`acknowledging 1 entry of queue '${name}' \\(\\d+-\\d+…\\).*WRONGTYPE`))
    })
  },
)
