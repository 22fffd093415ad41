import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { bridge, ConfigError, ConnectionError, connect, type Message } from '../src/index.js'
import type { AdapterFactory } from '../src/spi/index.js'

/** The memory adapter whose first `failures` publishes fail as a lost connection would. */
function flakyMemory(failures: number): AdapterFactory & { failed: () => number } {
  let failed = 0
  return {
    ...memory,
    failed: () => failed,
    async connect(url, context) {
      const transport = await memory.connect(url, context)
      const publish = transport.publish.bind(transport)
      // Every send through the failing `publish` (memory would otherwise store it with `publishNow`).
      transport.publishNow = undefined
      transport.publish = async (destination, messages, signal) => {
        if (failed < failures) {
          failed++
          throw new ConnectionError('the target broker went away (test)')
        }
        return publish(destination, messages, signal)
      }
      return transport
    },
  }
}

async function collect<T>(mq: Awaited<ReturnType<typeof connect>>, queue: string, count: number): Promise<Message<T>[]> {
  const seen: Message<T>[] = []
  let resolve = () => {}
  const promise = new Promise<void>((done) => (resolve = done))
  const subscription = mq.queue<T>(queue).consume(async (message) => {
    seen.push(message)
    if (seen.length === count) resolve()
  })
  await Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${seen.length} of ${count} arrived`)), 10_000))])
  await subscription.close()
  return seen
}

describe('bridge', () => {
  it('forwards a queue keeping id, key, headers, bytes and the order of each key, then reports count in = count out', async () => {
    const from = await connect('memory://bridge-a', { adapter: memory })
    const to = await connect('memory://bridge-b', { adapter: memory })
    const sent: { id: string; key: string; n: number }[] = []
    for (let n = 0; n < 300; n++) {
      const key = `k${n % 7}`
      const { id } = await from.queue('orders').send({ n }, { key, headers: { tenant: 'acme', n: String(n) } })
      sent.push({ id, key, n })
    }
    const run = bridge(from, to, { queues: ['orders'], idleMs: 300, concurrency: 8 })
    const report = await run.done
    expect(report).toMatchObject({ received: 300, forwarded: 300, duplicates: 0, drained: true })
    expect(report.routes).toEqual([{ from: 'queue orders', to: 'queue orders', received: 300, forwarded: 300, duplicates: 0 }])

    const arrived = await collect<{ n: number }>(to, 'orders', 300)
    expect(arrived.map((message) => message.id).sort()).toEqual(sent.map((message) => message.id).sort())
    for (const message of arrived) {
      expect(message.headers).toEqual({ tenant: 'acme', n: String(message.body.n) })
      expect(message.key).toBe(`k${message.body.n % 7}`)
    }
    for (let key = 0; key < 7; key++) {
      const order = arrived.filter((message) => message.key === `k${key}`).map((message) => message.body.n)
      expect(order).toEqual([...order].sort((a, b) => a - b))
    }
    expect(await from.queue('orders').deadLetters().peek(10)).toEqual([])
    await Promise.all([from.close(), to.close()])
  })

  it('retries a failing target until it takes the message: nothing lost, nothing dead-lettered on the source', async () => {
    const flaky = flakyMemory(5)
    const from = await connect('memory://bridge-c', { adapter: memory })
    const to = await connect('memory://bridge-d', { adapter: flaky })
    for (let n = 0; n < 20; n++) await from.queue('jobs').send({ n }, { key: 'one' })
    const errors: Error[] = []
    const report = await bridge(from, to, { queues: [{ from: 'jobs', to: 'jobs-copy' }], idleMs: 500, onError: (error) => errors.push(error) }).done
    expect(flaky.failed()).toBeGreaterThanOrEqual(3) // core's sender may absorb one retryable failure itself
    expect(errors.length).toBeGreaterThanOrEqual(1)
    expect(report).toMatchObject({ received: 20, forwarded: 20 })
    const arrived = await collect<{ n: number }>(to, 'jobs-copy', 20)
    expect(arrived.map((message) => message.body.n)).toEqual([...Array(20).keys()])
    expect(await from.queue('jobs').deadLetters().peek(10)).toEqual([])
    await Promise.all([from.close(), to.close()])
  })

  it('forwards a topic subscription to a topic with its subject, and keeps running live until stopped', async () => {
    const from = await connect('memory://bridge-e', { adapter: memory })
    const to = await connect('memory://bridge-f', { adapter: memory })
    const received: Message<unknown>[] = []
    await to.topic('events').subscribe('audit', async (message) => void received.push(message)).ready
    const run = bridge(from, to, { subscriptions: [{ topic: 'events', subscription: 'to-new-broker' }], until: 'stopped', idleMs: 50 })
    await new Promise((resolve) => setTimeout(resolve, 200))
    await from.topic('events').publish({ kind: 'created' }, { subject: 'order.created', key: 'o-1' })
    await new Promise((resolve) => setTimeout(resolve, 300)) // idle longer than idleMs: still running
    await from.topic('events').publish({ kind: 'paid' }, { subject: 'order.paid', key: 'o-1' })
    const deadline = Date.now() + 5000
    while (received.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    const report = await run.stop()
    expect(report).toMatchObject({ received: 2, forwarded: 2, drained: false })
    expect(received.map((message) => [message.subject, message.body])).toEqual([
      ['order.created', { kind: 'created' }],
      ['order.paid', { kind: 'paid' }],
    ])
    await Promise.all([from.close(), to.close()])
  })

  it('refuses a bridge with nothing to forward or a bad option, with ConfigError', async () => {
    const from = await connect('memory://bridge-g', { adapter: memory })
    expect(() => bridge(from, from, {})).toThrow(ConfigError)
    expect(() => bridge(from, from, { queues: ['q'], concurrency: 0 })).toThrow(/concurrency/)
    expect(() => bridge(from, from, { queues: ['q'], until: 'never' as 'drained' })).toThrow(/until/)
    await from.close()
  })
})
