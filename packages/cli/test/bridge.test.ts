import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { Anymq } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { connectUrl } from '../src/connect-url.js'

// `anymq bridge` between two real brokers, its process SIGKILLed mid-way and started again: every
// message reaches the target (ids, keys, headers kept), and on a target that keeps per-key order
// (Kafka) the first arrival of each message follows the key's order.
const root = join(import.meta.dirname, '..', '..', '..')
const quietIo = { stdout: { write: () => true }, stderr: { write: () => true } }
const routes = [
  { name: 'RabbitMQ → Kafka', from: 'ANYMQ_RABBITMQ_URL', to: 'ANYMQ_KAFKA_URL', keyOrder: true, messages: 600 },
  // moto answers one request at a time: fewer messages, the same kill in the middle.
  { name: 'Redis → SQS', from: 'ANYMQ_REDIS_URL', to: 'ANYMQ_SQS_URL', keyOrder: false, messages: 200 },
]
const keys = 10

function startBridge(
  fromUrl: string,
  toUrl: string,
  queue: string,
  concurrency: number,
): { child: ChildProcess; output: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(
    join(root, 'node_modules', '.bin', 'tsx'),
    [
      '--conditions=@anymq/source',
      join(root, 'packages', 'cli', 'src', 'anymq.ts'),
      'bridge',
      fromUrl,
      toUrl,
      '--queue',
      queue,
      '--concurrency',
      String(concurrency),
      '--idle',
      '3',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => (stdout += chunk))
  child.stderr?.on('data', (chunk) => (stderr += chunk))
  const output = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  )
  return { child, output }
}

async function until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

for (const route of routes) {
  const fromUrl = process.env[route.from]
  const toUrl = process.env[route.to]
  const unset = [route.from, route.to].filter((variable) => !process.env[variable])
  describe.skipIf(unset.length > 0)(`anymq bridge ${route.name}${unset.length > 0 ? ` (${unset.join(', ')} unset: run scripts/brokers.sh up)` : ''}`, () => {
    it('forwards every message although the bridge process is SIGKILLed mid-way and started again', async () => {
      const { messages } = route
      const queue = `bridge-${randomUUID().slice(0, 8)}`
      const from: Anymq = await connectUrl(fromUrl as string, quietIo)
      const to: Anymq = await connectUrl(toUrl as string, quietIo)
      try {
        const sent = new Map<string, { key: string; n: number }>()
        const source = from.queue<{ n: number }>(queue)
        for (let n = 0; n < messages; n += 50) {
          const bodies = Array.from({ length: 50 }, (_, index) => ({ n: n + index }))
          const { ids } = await source.sendBatch(bodies, (body) => ({ key: `k${body.n % keys}`, headers: { origin: 'bridge-test', n: String(body.n) } }))
          for (const [index, id] of ids.entries()) sent.set(id, { key: `k${(n + index) % keys}`, n: n + index })
        }

        const arrivals: { id: string; key: string | undefined; n: number; headers: Readonly<Record<string, string>> }[] = []
        const target = to
          .queue<{ n: number }>(queue)
          .consume((message) => void arrivals.push({ id: message.id, key: message.key, n: message.body.n, headers: message.headers }), {
            concurrency: route.keyOrder ? 1 : 16,
          })
        await target.ready

        // One at a time, so it is still busy when a tenth has arrived and the kill lands mid-way.
        const first = startBridge(fromUrl as string, toUrl as string, queue, 1)
        await until(() => arrivals.length >= messages / 10, 'a tenth of the messages through the first bridge', 90_000).catch(async (error) => {
          first.child.kill('SIGKILL')
          throw new Error(`${(error as Error).message}; the bridge printed: ${(await first.output).stderr}`)
        })
        first.child.kill('SIGKILL')
        const killed = await first.output
        expect(killed.code, `the first bridge finished before the kill: ${killed.stdout}`).toBeNull()

        const second = startBridge(fromUrl as string, toUrl as string, queue, 8)
        const result = await second.output
        expect(result.code, result.stderr).toBe(0)
        expect(result.stdout).toMatch(/count in = count out/)
        await until(() => new Set(arrivals.map((arrival) => arrival.id)).size >= messages, 'every message at the target', 90_000)
        await target.close()

        const arrivedIds = new Set(arrivals.map((arrival) => arrival.id))
        expect([...arrivedIds].sort()).toEqual([...sent.keys()].sort())
        for (const arrival of arrivals) {
          const original = sent.get(arrival.id)
          expect(arrival.key).toBe(original?.key)
          expect(arrival.n).toBe(original?.n)
          expect(arrival.headers).toEqual({ origin: 'bridge-test', n: String(original?.n) })
        }
        // The only repeats are what the killed bridge had sent but not yet acked on the source.
        expect(arrivals.length - arrivedIds.size).toBeLessThanOrEqual(1)
        if (route.keyOrder) {
          const seen = new Set<string>()
          const firstArrivals = arrivals.filter((arrival) => !seen.has(arrival.id) && seen.add(arrival.id))
          for (let key = 0; key < keys; key++) {
            const order = firstArrivals.filter((arrival) => arrival.key === `k${key}`).map((arrival) => arrival.n)
            expect(order).toEqual([...order].sort((a, b) => a - b))
          }
        }
      } finally {
        await Promise.allSettled([from.close(), to.close()])
      }
    })
  })
}
