import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ChaosProxy } from '../../../scripts/chaos/chaos-proxy.js'
import { adapter } from '../src/index.js'
import { drivers, withDriver } from './drivers.js'

const run = promisify(execFile)
// redis+sentinel://… of `scripts/cluster.sh up redis` (a primary, 2 replicas, 3 Sentinels). Not part of
// `pnpm test` (scripts/test-lanes.mjs leaves out files that name an ANYMQ_CLUSTER_ variable);
// `pnpm test:cluster redis` brings the cluster up and runs it, and so does CI. Under CI=true a missing
// URL fails the file instead of skipping it.
const url = brokerUrl('ANYMQ_CLUSTER_REDIS_URL', 'run pnpm test:cluster redis (it starts scripts/cluster.sh up redis)')
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

describe.skipIf(!url).each(drivers)('redis through Sentinel, %s driver (ANYMQ_CLUSTER_REDIS_URL unset: run pnpm test:cluster redis)', (driver) => {
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
  })

  it('finds the primary, and after it was SIGKILLed goes on with the promoted replica, losing nothing confirmed; request/reply goes on too', async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const queue = mq.queue<number>(uniqueName('sentinel'))
    const seen = new Collector<number>()
    await queue.consume(seen.handler).ready
    await queue.sendBatch([0, 1, 2, 3, 4])
    await seen.waitForCount(5, 15_000)
    // Request/reply across the failover: the inbox's stream reader and its reply subscriber both move to the new primary.
    const service = uniqueName('sentinel-rr')
    await mq.responder<number, number>(service).serve((request) => request * 2).ready
    const requester = mq.requester<number, number>(service)
    expect(await requester.request(1, { timeoutMs: 10_000 })).toBe(2)
    const primary = await cluster('leader', 'redis')
    await cluster('kill', primary)
    try {
      const deadline = Date.now() + 90_000
      for (let index = 5; index < 10; index++) await sendUntilStored(() => queue.send(index), deadline)
      await seen.waitForCount(10, 60_000)
      // The Sentinels learn of the new primary from each other within a couple of seconds, and the
      // clients may have asked one that knew before the first one `cluster leader` asks did.
      await vi.waitFor(async () => expect(await cluster('leader', 'redis')).not.toBe(primary), { timeout: 10_000, interval: 250 })
      let answer: number | undefined
      await sendUntilStored(async () => {
        answer = await requester.request(21, { timeoutMs: 5000 })
      }, deadline)
      expect(answer).toBe(42)
    } finally {
      await cluster('start', primary)
    }
    for (let index = 0; index < 10; index++) expect(seen.bodies).toContain(index)
  })

  it('moves sends and the consumer off a primary that stopped answering (SIGSTOP) once Sentinel failed over, without waiting for it', async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const queue = mq.queue<number>(uniqueName('sentinel-frozen'))
    const seen = new Collector<number>()
    await queue.consume(seen.handler).ready
    await queue.send(0)
    await seen.waitForCount(1, 15_000)
    const primary = await cluster('leader', 'redis')
    const pid = Number(await cluster('pid', primary))
    // Frozen, not killed: its connections stay open and nothing on them ever errors.
    process.kill(pid, 'SIGSTOP')
    try {
      const began = Date.now()
      const sending = (async () => {
        for (let index = 1; index <= 3; index++) await sendUntilStored(() => queue.send(index), began + 30_000)
        return 'sent'
      })()
      // Before (node-redis): the sends waited on the frozen primary for as long as it stayed so.
      const outcome = await Promise.race([sending, new Promise((resolve) => setTimeout(() => resolve('still waiting after 20 s'), 20_000))])
      expect(outcome).toBe('sent')
      await seen.waitForCount(4, 20_000)
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    for (let index = 0; index <= 3; index++) expect(seen.bodies).toContain(index)
  })
})

describe.skipIf(!url)('redis through Sentinel, ioredis driver: its failover detector (ANYMQ_CLUSTER_REDIS_URL unset: run pnpm test:cluster redis)', () => {
  it('reports a reset Sentinel connection through the logger, never as "[ioredis] Unhandled error event" on the console', async () => {
    // ioredis' failover detector keeps a SUBSCRIBE connection to every Sentinel with no `error`
    // listener of its own (ioredis #1346): each reset was printed to console.error, past the logger.
    const sentinelPorts = (process.env.ANYMQ_CLUSTER_SENTINEL_PORTS ?? '').split(',').filter(Boolean).map(Number)
    expect(sentinelPorts.length).toBeGreaterThan(0)
    const proxies = await Promise.all(sentinelPorts.map((port) => ChaosProxy.start(0, port)))
    const printed: string[] = []
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      printed.push(args.map(String).join(' '))
    })
    const warnings: string[] = []
    const logger = { debug() {}, info() {}, warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) }
    try {
      const through = proxies.map((proxy) => `127.0.0.1:${proxy.port}`).join(',')
      const mq = await connect(withDriver(`redis+sentinel://${through}/anymq`, 'ioredis'), { adapter, logger })
      try {
        const queue = mq.queue<number>(uniqueName('sentinel-detector'))
        await queue.send(1)
        const cut = proxies.reduce((sum, proxy) => sum + proxy.cut(), 0)
        expect(cut).toBeGreaterThan(0)
        await new Promise((resolve) => setTimeout(resolve, 500))
        await queue.send(2)
      } finally {
        await mq.close()
      }
    } finally {
      spy.mockRestore()
      await Promise.all(proxies.map((proxy) => proxy.close()))
    }
    expect(printed.filter((line) => line.includes('[ioredis]'))).toEqual([])
    expect(warnings.some((message) => /Sentinel/.test(message) && /ECONNRESET/.test(message))).toBe(true)
  })
})
