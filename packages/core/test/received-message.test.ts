import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { connect, type Message } from '../src/index.js'
import { ReceivedMessage } from '../src/received-message.js'

/** Resolves with the next `count` messages the handler sees, running `then` on each. */
function collect<T>(count: number, then: (message: Message<T>) => unknown = () => {}) {
  const seen: Message<T>[] = []
  let done!: () => void
  const all = new Promise<void>((resolve) => {
    done = resolve
  })
  const handler = async (message: Message<T>) => {
    seen.push(message)
    await then(message)
    if (seen.length === count) done()
  }
  return { seen, all, handler }
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('a received message', () => {
  it('settles through destructured methods: const { ack } = message acks', async () => {
    const mq = await connect('memory://received-destructured-ack', { adapter: memory })
    const queue = mq.queue<{ n: number }>('orders')
    const { seen, all, handler } = collect<{ n: number }>(1, async (message) => {
      const { ack } = message
      await ack()
    })
    const sub = queue.consume(handler, { ack: 'manual' })
    await sub.ready
    await queue.send({ n: 1 })
    await all
    await until(async () => (await queue.stats()).inFlight === 0 && sub.counts.acked === 1, 'the ack')
    expect(seen.map((message) => message.attempt)).toEqual([1])
    expect((await queue.stats()).ready).toBe(0)
    await mq.close()
  })

  it('settles through a destructured nack: the message comes back as attempt 2 with the reason recorded', async () => {
    const mq = await connect('memory://received-destructured-nack', { adapter: memory })
    const queue = mq.queue<string>('jobs', { codec: 'text' })
    const { seen, all, handler } = collect<string>(2, async (message) => {
      const { nack, ack } = message
      if (message.attempt === 1) await nack({ delayMs: 0, reason: 'not yet' })
      else await ack()
    })
    const sub = queue.consume(handler, { ack: 'manual' })
    await sub.ready
    await queue.send('hello')
    await all
    expect(seen.map((message) => [message.body, message.attempt])).toEqual([
      ['hello', 1],
      ['hello', 2],
    ])
    expect(sub.counts.retried).toBe(1)
    await mq.close()
  })

  it('takes only the first settlement: a later ack, nack or release, and the auto ack, do nothing', async () => {
    const mq = await connect('memory://received-first-settlement', { adapter: memory })
    const queue = mq.queue<number>('once')
    const { seen, all, handler } = collect<number>(2, async (message) => {
      if (seen.length > 1) return
      const { release, nack, ack } = message
      await release()
      await nack({ reason: 'too late' })
      await ack()
    })
    const sub = queue.consume(handler)
    await sub.ready
    await queue.send(7)
    // Released, not nacked or acked: delivered again as attempt 1 (no failure recorded), then auto-acked.
    await all
    await until(() => sub.counts.acked === 1, 'the ack of the redelivery')
    expect(seen.map((message) => message.attempt)).toEqual([1, 1])
    expect(sub.counts.retried).toBe(0)
    await mq.close()
  })

  it('reads the same bound function twice, and serialises to its data without internal state', async () => {
    const mq = await connect('memory://received-shape', { adapter: memory })
    const queue = mq.queue<{ n: number }>('shape')
    const { seen, all, handler } = collect<{ n: number }>(1)
    const sub = queue.consume(handler)
    await sub.ready
    await queue.send({ n: 3 }, { key: 'k', headers: { tenant: 'acme' }, correlationId: 'c-1' })
    await all
    const message = seen[0] as Message<{ n: number }>
    expect(message.ack).toBe(message.ack)
    const json = JSON.parse(JSON.stringify(message)) as Record<string, unknown>
    expect(json).toMatchObject({ body: { n: 3 }, headers: { tenant: 'acme' }, key: 'k', attempt: 1, correlationId: 'c-1' })
    expect(Object.keys(json).sort()).toEqual(['attempt', 'body', 'correlationId', 'headers', 'id', 'key', 'raw', 'timestamp'])
    expect({ ...message }).toMatchObject({ id: message.id, body: { n: 3 }, key: 'k' })
    expect(message.timestamp).toBeInstanceOf(Date)
    // timestamp stays an own Date: spreading keeps it (a getter on the class would be dropped), JSON carries it as ISO text.
    expect({ ...message }.timestamp).toBe(message.timestamp)
    expect(json.timestamp).toBe(message.timestamp.toISOString())
    await mq.close()
  })

  it('shows no reserved headers, and an empty object of its own for a message without headers of the sender', async () => {
    const mq = await connect('memory://received-headers', { adapter: memory })
    const queue = mq.queue<number>('headers', { retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 1 } } })
    const { seen, all, handler } = collect<number>(4, (message) => {
      if (message.body === 1 && message.attempt === 1) throw new Error('fails once')
    })
    await queue.consume(handler).ready
    await queue.send(1)
    await queue.send(2)
    await queue.send(3, { headers: { tenant: 'acme' } })
    await all
    const first = seen.find((message) => message.body === 1 && message.attempt === 1)
    const retried = seen.find((message) => message.body === 1 && message.attempt === 2)
    const second = seen.find((message) => message.body === 2)
    const withHeaders = seen.find((message) => message.body === 3)
    // The retry carries failure headers on the wire (x-anymq-*): none shown.
    expect(retried?.attempt).toBe(2)
    expect(Object.keys(ReceivedMessage.incomingOf(retried as Message<unknown>)?.headers ?? {}).some((name) => name.startsWith('x-anymq-'))).toBe(true)
    for (const message of [first, retried, second]) {
      expect(message?.headers).toEqual({})
    }
    // Handler code behaves the same whatever the sender sent: no message's headers are shared or frozen.
    const writable = first?.headers as Record<string, string>
    writable.tenant = 'mallory'
    expect(second?.headers).toEqual({})
    expect(retried?.headers).toEqual({})
    expect(withHeaders?.headers).toEqual({ tenant: 'acme' })
    expect(Object.isFrozen(withHeaders?.headers)).toBe(false)
    await mq.close()
  })
})
