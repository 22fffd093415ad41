import { randomBytes } from 'node:crypto'
import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { redisCli } from './broker.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

/** Kills every connection whose name starts with `prefix`; returns how many. Other clients of the shared test Redis are left alone. */
async function killConnections(redisUrl: string, prefix: string): Promise<number> {
  const lines = await redisCli(redisUrl, 'CLIENT', 'LIST')
  const ids = lines.filter((line) => line.includes(` name=${prefix}`)).map((line) => /\bid=(\d+)/.exec(line)?.[1] as string)
  for (const id of ids) await redisCli(redisUrl, 'CLIENT', 'KILL', 'ID', id)
  return ids.length
}

// Each client library reconnects in its own way (node-redis: a new client per connection, made by the
// driver; ioredis: its own retry strategy). A connection cut by the server must come back by itself,
// on the command connection and on the consumer's blocking one, and nothing confirmed may be lost.
describe.skipIf(!url).each(drivers)(
  'redis reconnects after its connections were killed, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)',
  (driver) => {
    const open: Array<{ close(): Promise<void> }> = []
    afterEach(async () => {
      await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
    })

    it('keeps publishing and consuming after every connection was killed, losing nothing', async () => {
      const name = `reconnect-${randomBytes(4).toString('hex')}`
      const mq = await connect(withDriver(url as string, driver), { adapter, broker: { connectionName: name } })
      open.push(mq)
      const queue = mq.queue<number>(uniqueName('reconnect'))
      const seen = new Collector<number>()
      await queue.consume(seen.handler).ready
      await queue.sendBatch([0, 1, 2, 3, 4])
      await seen.waitForCount(5, 10_000)
      // The command connection and the consumer's blocking connection.
      expect(await killConnections(url as string, name)).toBeGreaterThanOrEqual(2)
      for (let index = 5; index < 10; index++) await queue.send(index)
      await seen.waitForCount(10, 20_000)
      expect([...new Set(seen.bodies)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      // And again, now that both came back once.
      expect(await killConnections(url as string, name)).toBeGreaterThanOrEqual(2)
      await queue.sendBatch([10, 11])
      await seen.waitForCount(12, 20_000)
      expect(new Set(seen.bodies).size).toBe(12)
    })
  },
)
