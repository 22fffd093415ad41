import { describe, expect, it } from 'vitest'
import { adapter as memoryAdapter } from '../../adapter-memory/src/index.js'
import {
  type Anymq,
  ConfigError,
  connect,
  type IdempotencyOutcome,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  type Subscription,
  transportOf,
} from '../src/index.js'

async function until(check: () => boolean, what: string): Promise<void> {
  for (let tries = 0; tries < 1500; tries++) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** A consumer in a process that will "crash": its connection is terminated, so what it held unacked is redelivered after the lease. */
async function doomedConsumer(name: string, handler: (body: string) => unknown, store: IdempotencyStore): Promise<Anymq> {
  const doomed = await connect(`memory://${name}`, { adapter: memoryAdapter })
  await doomed.queue<string>(name).consume((message) => handler(message.body), { idempotency: { store }, leaseMs: 300 }).ready
  return doomed
}

function rescuer(mq: Anymq, name: string, effects: string[], store: IdempotencyStore): Subscription {
  return mq.queue<string>(name).consume((message) => void effects.push(message.body), { idempotency: { store }, leaseMs: 5_000 })
}

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

describe('consume({ idempotency }) crash windows (memory://, redelivery after a terminated consumer)', () => {
  it('skips a redelivery after a crash between recording the id and the ack', async () => {
    const name = `idem-crash-${Date.now()}`
    const shared = new MemoryIdempotencyStore()
    let recorded = false
    // Records the id like the real store, then never returns: the process "dies" before the ack.
    const crashesAfterRecord: IdempotencyStore = {
      async process<R>(messageId: string, work: (context: unknown) => R | Promise<R>): Promise<IdempotencyOutcome<R>> {
        await shared.process(messageId, work)
        recorded = true
        return new Promise<never>(() => {})
      },
    }
    const effects: string[] = []
    const doomed = await doomedConsumer(name, (body) => void effects.push(body), crashesAfterRecord)
    const mq = await connect(`memory://${name}`, { adapter: memoryAdapter })
    try {
      await mq.queue<string>(name).send('charge card', { id: 'payment-7' })
      await until(() => recorded, 'the id to be recorded')
      await transportOf(doomed).terminate()
      const subscription = rescuer(mq, name, effects, shared)
      await until(() => subscription.counts.duplicates === 1 && subscription.counts.acked === 1, 'the redelivery to be skipped and acked')
      expect(effects).toEqual(['charge card'])
    } finally {
      await mq.close()
    }
  })

  it('runs the handler again after a crash between its effect and recording the id (the documented window)', async () => {
    const name = `idem-window-${Date.now()}`
    const shared = new MemoryIdempotencyStore()
    const effects: string[] = []
    // What the dying process held in its store (a running mark) dies with it, as a Redis lease expires.
    const doomed = await doomedConsumer(
      name,
      async (body) => {
        effects.push(body)
        await new Promise(() => {})
      },
      new MemoryIdempotencyStore(),
    )
    const mq = await connect(`memory://${name}`, { adapter: memoryAdapter })
    try {
      await mq.queue<string>(name).send('send email', { id: 'mail-9' })
      await until(() => effects.length === 1, 'the first effect')
      await transportOf(doomed).terminate()
      const subscription = rescuer(mq, name, effects, shared)
      await until(() => subscription.counts.acked === 1, 'the redelivery to be handled')
      expect(effects).toEqual(['send email', 'send email'])
      expect(subscription.counts.duplicates).toBe(0)
      // Now recorded: a third copy of the id is skipped.
      await mq.queue<string>(name).send('send email', { id: 'mail-9' })
      await until(() => subscription.counts.duplicates === 1 && subscription.counts.acked === 2, 'the copy to be skipped')
      expect(effects).toHaveLength(2)
    } finally {
      await mq.close()
    }
  })
})
