import { brokerUrl, startTcpRelay } from '@anymq/conformance'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ioredisDriver } from '../src/ioredis-driver.js'
import { nodeRedisDriver } from '../src/node-redis-driver.js'
import { readSettings } from '../src/redis-config.js'
import type { RedisConnection, RedisDriver } from '../src/redis-driver.js'

const url = brokerUrl('ANYMQ_REDIS_URL')
const quietLogger = { debug() {}, info() {}, warn() {}, error() {} }

const driversByName: Array<[string, RedisDriver]> = [
  ['node-redis', nodeRedisDriver],
  ['ioredis', ioredisDriver],
]

// A blocking read on a socket that went silent without closing would wait forever: each driver bounds
// it (BLOCK + 5 s), then answers it as an empty read and connects again, so the consumer goes on, on a
// socket whose answers are its own commands'.
describe.skipIf(!url)('a blocking read on a silent socket (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  })

  it.each(driversByName)(
    '%s: ends as an empty read, and the connection comes back',
    async (_name, driver) => {
      const target = new URL(url as string)
      const relay = await startTcpRelay(target)
      cleanups.push(() => relay.close())
      const relayed = relay.url
      relayed.searchParams.set('blockMs', '100')
      const connection: RedisConnection = await driver.open(readSettings(relayed, {}), 'consumer', quietLogger, () => {})
      cleanups.push(() => connection.close())
      const stream = `stall-${process.pid}-${Date.now()}`
      const read = () => connection.call(['XREAD', 'COUNT', '1', 'BLOCK', '100', 'STREAMS', stream, '$'], { binary: true, blockMs: 100 })
      expect(await read()).toBeNull()
      relay.freeze()
      // Redis answers this read after 100 ms, but the answer never arrives.
      expect(await read()).toBeNull()
      relay.thaw()
      await vi.waitFor(() => expect(connection.ready).toBe(true), { timeout: 10_000, interval: 50 })
      // On a new socket: were the stalled read's answer still owed on the old one, it would be taken for this read's.
      await connection.call(['XADD', stream, '*', 'body', 'after'])
      cleanups.push(async () => {
        await connection.call(['DEL', stream])
      })
      const entries = (await connection.call(['XREAD', 'COUNT', '1', 'BLOCK', '100', 'STREAMS', stream, '0'], { binary: true, blockMs: 100 })) as Array<
        [Buffer, Array<[Buffer, Buffer[]]>]
      > | null
      expect(entries?.[0]?.[1][0]?.[1].map(String)).toEqual(['body', 'after'])
    },
    30_000,
  )
})
