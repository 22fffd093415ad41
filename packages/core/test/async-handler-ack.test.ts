import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { connect } from '../src/index.js'
import type { AdapterFactory, Delivery } from '../src/spi/index.js'

/** memory:// whose deliveries count how core settles them; `ackNow` throws while `failing.on`. */
function watched() {
  const calls = { ack: 0, ackNow: 0 }
  const failing = { on: false }
  const factory: AdapterFactory = {
    ...memory,
    async connect(url, context) {
      const transport = await memory.connect(url, context)
      const consume = transport.consume.bind(transport)
      transport.consume = (source, options, deliver) =>
        consume(source, options, (delivery) => {
          const wrapped: Delivery = {
            message: delivery.message,
            raw: delivery.raw,
            ack: () => {
              calls.ack++
              return delivery.ack()
            },
            ackNow: () => {
              calls.ackNow++
              if (failing.on) throw new Error('ackNow failed (test)')
              return delivery.ackNow?.() ?? false
            },
            retry: (retryOptions) => delivery.retry(retryOptions),
            release: () => delivery.release(),
            extendLease: (ms) => delivery.extendLease(ms),
          }
          deliver(wrapped)
        })
      return transport
    },
  }
  return { factory, calls, failing }
}

describe('an async handler on an adapter that acks synchronously (ackNow)', () => {
  it('is acked through ackNow once its promise resolves, never through ack()', async () => {
    const { factory, calls } = watched()
    const mq = await connect('memory://async-ack-now', { adapter: factory })
    const queue = mq.queue<number>('q')
    await queue.sendBatch(Array.from({ length: 20 }, (_, index) => index))
    let handled = 0
    let done!: () => void
    const all = new Promise<void>((resolve) => {
      done = resolve
    })
    const subscription = queue.consume(
      async () => {
        await new Promise((resolve) => setImmediate(resolve))
        if (++handled === 20) done()
      },
      { concurrency: 4 },
    )
    await all
    await subscription.close()
    expect(calls).toEqual({ ack: 0, ackNow: 20 })
    expect((await queue.stats()).inFlight).toBe(0)
    await mq.close()
  })

  it('reports an ackNow that throws to onError, as a failed ack()', async () => {
    const { factory, failing } = watched()
    const mq = await connect('memory://async-ack-now-throws', { adapter: factory })
    const queue = mq.queue<number>('q')
    await queue.sendBatch([1, 2, 3])
    const errors: string[] = []
    const seen: number[] = []
    let done!: () => void
    const all = new Promise<void>((resolve) => {
      done = resolve
    })
    failing.on = true
    const subscription = queue.consume(
      async (message) => {
        seen.push(message.body)
        if (seen.length === 3) done()
      },
      { concurrency: 4, onError: (error) => errors.push(error.message) },
    )
    await all
    // The error is reported after the handler's promise resolved: one more turn.
    await new Promise((resolve) => setImmediate(resolve))
    expect(seen).toEqual([1, 2, 3])
    expect(errors).toEqual(['ackNow failed (test)', 'ackNow failed (test)', 'ackNow failed (test)'])
    await subscription.close()
    await mq.close()
  })

  it('is acked through ackNow on a consumer with a schema too (its body validated asynchronously)', async () => {
    const { factory, calls } = watched()
    const mq = await connect('memory://async-ack-now-schema', { adapter: factory })
    const positive = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: async (value: unknown) => (typeof value === 'number' && value > 0 ? { value } : { issues: [{ message: 'not a positive number' }] }),
      },
    }
    const queue = mq.queue<number>('q', { schema: positive })
    await queue.sendBatch([1, 2, 3, 4, 5])
    let handled = 0
    let done!: () => void
    const all = new Promise<void>((resolve) => {
      done = resolve
    })
    const subscription = queue.consume(
      () => {
        if (++handled === 5) done()
      },
      { concurrency: 2 },
    )
    await all
    await subscription.close()
    expect(calls).toEqual({ ack: 0, ackNow: 5 })
    expect((await queue.stats()).inFlight).toBe(0)
    await mq.close()
  })
})
