import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Collector, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { drivers, withDriver } from './drivers.js'

const run = promisify(execFile)
// redis+sentinel://… of `scripts/cluster.sh up redis` (a primary, 2 replicas, 3 Sentinels): not part of `pnpm test`.
const url = process.env.ANYMQ_CLUSTER_REDIS_URL
const clusterScript = join(import.meta.dirname, '..', '..', '..', 'scripts', 'cluster.sh')
const cluster = async (...args: string[]) => (await run('bash', [clusterScript, ...args], { timeout: 120_000, encoding: 'utf8' })).stdout.trim()

/** Sends until Redis accepted it: during a failover a send fails with a retryable error (it may or may not be kept). */
async function sendUntilStored(send: () => Promise<unknown>, deadline: number): Promise<void> {
  for (;;) {
    try {
      await send()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

describe.skipIf(!url).each(drivers)('redis through Sentinel, %s driver (ANYMQ_CLUSTER_REDIS_URL unset: run scripts/cluster.sh up redis)', (driver) => {
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
  })

  it('finds the primary, and after it was SIGKILLed goes on with the promoted replica, losing nothing confirmed', async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const queue = mq.queue<number>(uniqueName('sentinel'))
    const seen = new Collector<number>()
    await queue.consume(seen.handler).ready
    await queue.sendBatch([0, 1, 2, 3, 4])
    await seen.waitForCount(5, 15_000)
    const primary = await cluster('leader', 'redis')
    await cluster('kill', primary)
    try {
      const deadline = Date.now() + 90_000
      for (let index = 5; index < 10; index++) await sendUntilStored(() => queue.send(index), deadline)
      await seen.waitForCount(10, 60_000)
      expect(await cluster('leader', 'redis')).not.toBe(primary)
    } finally {
      await cluster('start', primary)
    }
    for (let index = 0; index < 10; index++) expect(seen.bodies).toContain(index)
  })
})
