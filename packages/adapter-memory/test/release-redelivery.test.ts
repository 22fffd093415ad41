import { connect, type Message } from '@anymq/core'
import type { AdapterFactory, Transport } from '@anymq/core/spi'
import { describe, expect, it, vi } from 'vitest'
import { adapter as memory } from '../src/index.js'

/** The real `setTimeout`, for a deadline while a test fakes the global one. */
const realSetTimeout = globalThis.setTimeout

/**
 * memory:// whose consumers pass on at most `cap` deliveries and hold the rest unsettled: a
 * redelivery loop fills the consumer's prefetch and stops, so it fails an assertion instead of
 * spinning the process without a turn.
 */
function capped(cap: number) {
  const seen = { deliveries: 0, overCap: false, transports: [] as Transport[] }
  const factory: AdapterFactory = {
    ...memory,
    async connect(url, context) {
      const transport = await memory.connect(url, context)
      seen.transports.push(transport)
      const consume = transport.consume.bind(transport)
      transport.consume = (source, options, deliver) =>
        consume(source, options, (delivery) => {
          if (++seen.deliveries > cap) seen.overCap = true
          else deliver(delivery)
        })
      return transport
    },
  }
  return { factory, seen }
}

/** A flag that turns true once the code running now has run to completion (at the next microtask checkpoint). */
function afterThisRun(): { passed: boolean } {
  const run = { passed: false }
  queueMicrotask(() => {
    run.passed = true
  })
  return run
}

function waitUntil(done: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const poll = () => {
      if (done()) resolve()
      else if (Date.now() - started > 10_000) reject(new Error(`timed out waiting for ${what}`))
      else setTimeout(poll, 2)
    }
    poll()
  })
}

describe('memory: a message given back comes back on a later turn', () => {
  it('redelivers a message released by a handler only once the code that released it has run to completion', async () => {
    const { factory, seen } = capped(100)
    const mq = await connect('memory://release-later-turn', { adapter: factory })
    const queue = mq.queue<number>('q')
    const releasedIn = new Map<number, { passed: boolean }>()
    const redeliveredSameTurn: number[] = []
    const handled: number[] = []
    const sub = queue.consume(
      (message) => {
        const turn = releasedIn.get(message.body)
        if (turn === undefined) {
          releasedIn.set(message.body, afterThisRun())
          void message.release()
          return
        }
        if (!turn.passed) redeliveredSameTurn.push(message.body)
        handled.push(message.body)
      },
      { concurrency: 4 },
    )
    await sub.ready
    await queue.sendBatch([1, 2, 3])
    await waitUntil(() => handled.length === 3 || seen.overCap, 'three handled messages')
    await mq.close()
    expect(seen.overCap).toBe(false)
    expect(redeliveredSameTurn).toEqual([])
    expect(handled.sort()).toEqual([1, 2, 3])
  })

  it('does not start a handler inside another handler’s release()', async () => {
    const { factory, seen } = capped(100)
    const mq = await connect('memory://release-no-recursion', { adapter: factory })
    const queue = mq.queue<number>('q')
    let releasing = false
    let nested = 0
    const released = new Set<number>()
    const handled: number[] = []
    const sub = queue.consume(
      async (message: Message<number>) => {
        // A handler started from inside the release() below finds the flag up.
        if (releasing) nested++
        // Released after a turn of its own, outside the loop that started it, as most handlers do.
        await null
        if (!released.has(message.body)) {
          released.add(message.body)
          releasing = true
          void message.release()
          releasing = false
          return
        }
        handled.push(message.body)
      },
      { concurrency: 4 },
    )
    await sub.ready
    await queue.sendBatch([1, 2, 3, 4, 5, 6])
    await waitUntil(() => handled.length === 6 || seen.overCap, 'six handled messages')
    await mq.close()
    expect(seen.overCap).toBe(false)
    expect(nested).toBe(0)
    expect(handled.sort()).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('redelivers a message nacked without delay only once the code that nacked it has run to completion, as attempt 2', async () => {
    const { factory, seen } = capped(100)
    const mq = await connect('memory://nack-later-turn', { adapter: factory })
    const queue = mq.queue<string>('q')
    let nackedIn: { passed: boolean } | undefined
    const attempts: Array<{ attempt: number; afterRun: boolean }> = []
    const sub = queue.consume((message) => {
      attempts.push({ attempt: message.attempt, afterRun: nackedIn?.passed ?? true })
      if (message.attempt === 1) {
        nackedIn = afterThisRun()
        void message.nack({ delayMs: 0 })
      }
    })
    await sub.ready
    await queue.send('once more')
    await waitUntil(() => attempts.length === 2 || seen.overCap, 'the redelivery')
    await mq.close()
    expect(seen.overCap).toBe(false)
    expect(attempts).toEqual([
      { attempt: 1, afterRun: true },
      { attempt: 2, afterRun: true },
    ])
  })

  it('keeps per-key order: a released message goes out again before the later ones of its key', async () => {
    const mq = await connect('memory://release-key-order', { adapter: memory })
    const queue = mq.queue<number>('q')
    const order: number[] = []
    let releasedOnce = false
    const sub = queue.consume(
      (message) => {
        if (message.body === 1 && !releasedOnce) {
          releasedOnce = true
          void message.release()
          return
        }
        order.push(message.body)
      },
      { concurrency: 8 },
    )
    await sub.ready
    await queue.sendBatch([1, 2, 3, 4], () => ({ key: 'same' }))
    await waitUntil(() => order.length === 4, 'four handled messages')
    await mq.close()
    expect(order).toEqual([1, 2, 3, 4])
  })

  it('puts released messages back at the front of the queue at once, though they are delivered on a later turn', async () => {
    const { factory, seen } = capped(100)
    const mq = await connect('memory://release-order', { adapter: factory })
    const queue = mq.queue<number>('q')
    await queue.sendBatch([1, 2, 3, 4, 5, 6])
    // One consumer takes the first three, stops, and releases them all at once, in reverse.
    const held: Message<number>[] = []
    let finish!: () => void
    const mayFinish = new Promise<void>((resolve) => {
      finish = resolve
    })
    const taker = queue.consume(
      async (message) => {
        held.push(message)
        await mayFinish
      },
      { concurrency: 3, prefetch: 3 },
    )
    await waitUntil(() => held.length === 3, 'three held messages')
    const closing = taker.close()
    for (const message of [...held].reverse()) void message.release()
    finish()
    await closing
    expect(held.map((message) => message.body)).toEqual([1, 2, 3])
    const transport = seen.transports[0] as Transport
    const waiting = await transport.peek({ name: 'q', ordered: false, deadLetter: false, maxAttempts: 1, broker: {} }, 10)
    expect(waiting.map((message) => new TextDecoder().decode(message.body))).toEqual(['1', '2', '3', '4', '5', '6'])
    const handled: number[] = []
    const sub = queue.consume((message) => void handled.push(message.body), { concurrency: 1 })
    await sub.ready
    await waitUntil(() => handled.length === 6, 'six handled messages')
    await mq.close()
    expect(seen.overCap).toBe(false)
    expect(handled.sort()).toEqual([1, 2, 3, 4, 5, 6])
  })
})

describe('memory: a consumer closing while its start is still under way', () => {
  it('does not spin on what core gives back, and a new consumer gets every message', async () => {
    const { factory, seen } = capped(1000)
    const mq = await connect('memory://close-while-starting', { adapter: factory })
    const queue = mq.queue<number>('q')
    const bodies = Array.from({ length: 20 }, (_, index) => index)
    await queue.sendBatch(bodies)
    const handled: number[] = []
    let finishFirst!: () => void
    const firstMayFinish = new Promise<void>((resolve) => {
      finishFirst = resolve
    })
    let closing: Promise<void> | undefined
    // One handler at a time, ten fetched: nine wait in core. The first handler closes the
    // subscription on the next microtask, before the adapter's consume() has resolved: core gives
    // each delivery it holds back as memory:// hands them out.
    const sub = queue.consume(
      async (message) => {
        handled.push(message.body)
        if (closing === undefined) {
          queueMicrotask(() => {
            closing = sub.close()
          })
          await firstMayFinish
        }
      },
      { concurrency: 1, prefetch: 10 },
    )
    await waitUntil(() => closing !== undefined, 'close() to be called')
    finishFirst()
    await closing
    expect(seen.overCap).toBe(false)
    expect(handled).toEqual([0])
    const second = queue.consume((message) => void handled.push(message.body), { concurrency: 4 })
    await waitUntil(() => handled.length >= bodies.length, 'every message')
    await second.close()
    await mq.close()
    expect(seen.overCap).toBe(false)
    expect(handled.sort((a, b) => a - b)).toEqual(bodies)
  })
})

describe('memory: a message given back is not held back by a fake clock', () => {
  it('redelivers a released message while vi.useFakeTimers() fakes setImmediate, without advancing time', async () => {
    const mq = await connect('memory://release-fake-timers', { adapter: memory })
    vi.useFakeTimers()
    try {
      const queue = mq.queue<string>('q')
      const attempts: string[] = []
      let released = false
      const handled = new Promise<void>((resolve) => {
        queue.consume(async (message) => {
          attempts.push(message.body)
          if (!released) {
            released = true
            await message.release()
            return
          }
          resolve()
        })
      })
      await queue.send('once')
      // Promises and I/O only: the next turn is not time, so no timer needs to be advanced.
      await Promise.race([
        handled,
        new Promise((_, reject) => realSetTimeout(() => reject(new Error(`not redelivered; attempts: ${attempts.join(',')}`)), 2000)),
      ])
      expect(attempts).toEqual(['once', 'once'])
    } finally {
      vi.useRealTimers()
      await mq.close()
    }
  })
})
