import { describe, expect, it } from 'vitest'
import { adapter as memoryAdapter } from '../../adapter-memory/src/index.js'
import { ConfigError, connect, MemoryIdempotencyStore } from '../src/index.js'

describe('MemoryIdempotencyStore', () => {
  it('runs work once per id until its ttl passes, and records nothing when work throws', async () => {
    let now = 1_000
    const store = new MemoryIdempotencyStore({ now: () => now })
    await expect(
      store.process('a', () => {
        throw new Error('failed')
      }),
    ).rejects.toThrow('failed')
    expect(await store.process('a', () => 1, { ttlMs: 100 })).toEqual({ duplicate: false, result: 1 })
    expect(await store.process('a', () => 2, { ttlMs: 100 })).toEqual({ duplicate: true })
    now += 100
    expect(await store.process('a', () => 3, { ttlMs: 100 })).toEqual({ duplicate: false, result: 3 })
    now += 100
    expect(store.cleanup()).toBe(1)
  })

  it('makes a concurrent delivery of a running id wait, then skip it (or run when the first failed)', async () => {
    const store = new MemoryIdempotencyStore()
    const runs: string[] = []
    let finish!: (ok: boolean) => void
    const first = store.process(
      'b',
      () =>
        new Promise<void>((resolve, reject) => {
          runs.push('first')
          finish = (ok) => (ok ? resolve() : reject(new Error('first failed')))
        }),
    )
    const second = store.process('b', () => void runs.push('second'))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(runs).toEqual(['first'])
    finish(false)
    await expect(first).rejects.toThrow('first failed')
    expect(await second).toEqual({ duplicate: false, result: undefined })
    expect(runs).toEqual(['first', 'second'])
  })
})

describe('consume({ idempotency })', () => {
  it("refuses ack: 'manual' and a store without process(), naming the field", async () => {
    const mq = await connect('memory://idempotency-options', { adapter: memoryAdapter })
    try {
      const queue = mq.queue('q')
      expect(() => queue.consume(() => {}, { ack: 'manual', idempotency: { store: new MemoryIdempotencyStore() } })).toThrow(ConfigError)
      expect(() => queue.consume(() => {}, { idempotency: { store: {} as never } })).toThrow(/idempotency\.store\.process/)
    } finally {
      await mq.close()
    }
  })
})
