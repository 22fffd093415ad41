import { type Codec, cloudEvents, connect, type Message } from '@anymq/core'
import type { AdapterFactory, TransportConsumeOptions } from '@anymq/core/spi'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

/** Resolves with the first `count` messages a handler sees, running `then` on each first. */
function take<T>(count: number, then: (message: Message<T>) => unknown = () => {}) {
  const seen: Message<T>[] = []
  let done!: () => void
  const all = new Promise<void>((resolve) => {
    done = resolve
  })
  const handler = async (message: Message<T>) => {
    seen.push(message)
    if (seen.length <= count) await then(message)
    if (seen.length === count) done()
  }
  return { seen, all, handler }
}

describe('memory: what a sender or a handler does to its bytes stays its own', () => {
  it('a sender reusing its buffer after send does not change the message', async () => {
    const mq = await connect('memory://isolation-sender', { adapter })
    const queue = mq.queue<Uint8Array>('bytes', { codec: 'raw' })
    const buffer = new Uint8Array([1, 2, 3, 4])
    await queue.send(buffer)
    buffer.fill(9)
    const { seen, all, handler } = take<Uint8Array>(1)
    await queue.consume(handler).ready
    await all
    expect([...(seen[0]?.body ?? [])]).toEqual([1, 2, 3, 4])
    await mq.close()
  })

  it('a codec that hands back the bytes it was given (no freshBytes): the sender reusing them changes nothing', async () => {
    const mq = await connect('memory://isolation-codec', { adapter })
    const passThrough = { contentType: 'application/octet-stream', encode: (body: Uint8Array) => body, decode: (bytes: Uint8Array) => bytes }
    const queue = mq.queue<Uint8Array>('bytes', { codec: passThrough })
    const buffer = new Uint8Array([1, 2, 3, 4])
    await queue.send(buffer)
    await queue.sendBatch([buffer])
    buffer.fill(9)
    const { seen, all, handler } = take<Uint8Array>(2)
    await queue.consume(handler).ready
    await all
    expect(seen.map((message) => [...message.body])).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ])
    await mq.close()
  })

  it('a handler that overwrites its bytes and headers then fails: the retry gets the original ones', async () => {
    const mq = await connect('memory://isolation-retry', { adapter })
    const queue = mq.queue<Uint8Array>('bytes', { codec: 'raw', retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 1 } } })
    const { seen, all, handler } = take<Uint8Array>(2, (message) => {
      if (message.attempt === 1) {
        message.body.fill(0)
        ;(message.headers as Record<string, string>).tenant = 'mallory'
        throw new Error('first attempt fails')
      }
    })
    await queue.consume(handler).ready
    await queue.send(new Uint8Array([5, 6, 7]), { headers: { tenant: 'acme' } })
    await all
    expect(seen[1]?.attempt).toBe(2)
    expect([...(seen[1]?.body ?? [])]).toEqual([5, 6, 7])
    expect(seen[1]?.headers.tenant).toBe('acme')
    await mq.close()
  })

  it('one subscription overwriting its bytes does not change another subscription’s copy', async () => {
    const mq = await connect('memory://isolation-fan-out', { adapter })
    const topic = mq.topic<Uint8Array>('events', { codec: 'raw' })
    const first = take<Uint8Array>(1, (message) => {
      message.body.fill(0)
    })
    await topic.subscribe('first', first.handler).ready
    const second = take<Uint8Array>(1)
    await topic.subscribe('second', second.handler).ready
    await topic.publish(new Uint8Array([8, 9]))
    await Promise.all([first.all, second.all])
    expect([...(second.seen[0]?.body ?? [])]).toEqual([8, 9])
    await mq.close()
  })

  it('a JSON consumer reads the stored bytes without a copy; a failing handler still leaves the retry the original body', async () => {
    const options: Array<TransportConsumeOptions & { queue: string }> = []
    const watching: AdapterFactory = {
      ...adapter,
      async connect(url, context) {
        const transport = await adapter.connect(url, context)
        const consume = transport.consume.bind(transport)
        transport.consume = (source, given, deliver) => {
          options.push({ ...given, queue: source.kind === 'queue' ? source.queue.name : '' })
          return consume(source, given, deliver)
        }
        return transport
      },
    }
    const mq = await connect('memory://isolation-read-only', { adapter: watching })
    const queue = mq.queue<{ items: number[] }>('orders', { retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 1 } } })
    const { seen, all, handler } = take<{ items: number[] }>(2, (message) => {
      if (message.attempt === 1) {
        message.body.items.push(4)
        // The delivery carries the stored message itself here: the handler's headers must be its own object.
        const headers = message.headers as Record<string, string>
        headers.tenant = 'mallory'
        headers.added = 'yes'
        throw new Error('first attempt fails')
      }
    })
    await queue.consume(handler).ready
    await queue.send({ items: [1, 2, 3] }, { headers: { tenant: 'acme' } })
    await all
    expect(seen[1]?.attempt).toBe(2)
    expect(seen[1]?.body).toEqual({ items: [1, 2, 3] })
    expect(seen[1]?.headers).toEqual({ tenant: 'acme' })
    // Which consumers may share the stored bytes: decoding into a new value (json, text) only.
    const custom: Codec<Uint8Array> = { contentType: 'application/x-custom', encode: (body) => body, decode: (bytes) => bytes }
    for (const [name, codec] of [
      ['text', 'text'],
      ['raw', 'raw'],
      ['custom', custom],
      ['cloud-events', cloudEvents()],
    ] as const) {
      await mq.queue(name, { codec }).consume(() => {}).ready
    }
    expect(Object.fromEntries(options.map((given) => [given.queue, given.bodiesReadOnly]))).toEqual({
      orders: true,
      text: true,
      raw: false,
      custom: false,
      'cloud-events': false,
    })
    await mq.close()
  })
})
