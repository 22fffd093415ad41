import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { adapter as memoryAdapter } from '../../adapter-memory/src/index.js'
import { type BlobStore, ConfigError, connect, FileBlobStore, MemoryBlobStore, MessageTooLargeError, sweepClaimChecks } from '../src/index.js'

const directory = mkdtempSync(join(tmpdir(), 'anymq-blobs-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const stores: [string, () => BlobStore][] = [
  ['memory', () => new MemoryBlobStore()],
  ['filesystem', () => new FileBlobStore({ directory: join(directory, String(Math.random()).slice(2)) })],
]

for (const [name, makeStore] of stores) {
  describe(`claim check through the memory broker, ${name} blob store`, () => {
    it('carries a body over maxMessageBytes by reference, validates the fetched body, and deletes it after the ack', async () => {
      // 64 KiB broker: the default threshold is 64 KiB minus the header headroom.
      const mq = await connect(`memory://claim-${name}?maxMessageBytes=65536`, { adapter: memoryAdapter })
      try {
        const store = makeStore()
        const queue = mq.queue<{ blob: string }>('big', {
          claimCheck: { store },
          schema: {
            '~standard': {
              version: 1,
              vendor: 'test',
              validate: (value) =>
                typeof (value as { blob?: unknown }).blob === 'string'
                  ? { value: value as { blob: string } }
                  : { issues: [{ message: 'blob must be a string' }] },
            },
          },
        })
        const big = 'x'.repeat(300_000)
        const received: { body: { blob: string }; headers: Record<string, string> }[] = []
        const subscription = queue.consume((message) => void received.push({ body: message.body, headers: message.headers }))
        await subscription.ready
        await queue.send({ blob: big }, { headers: { kind: 'large' } })
        await queue.send({ blob: 'small' })
        await waitFor(() => subscription.counts.acked === 2, 'two acks')
        expect(received.map((message) => message.body.blob.length).sort((a, b) => a - b)).toEqual([5, 300_000])
        expect(received.find((message) => message.body.blob.length > 5)?.headers).toEqual({ kind: 'large' })
        await waitFor(async () => (await store.list('anymq/')).length === 0, 'the blob to be deleted')
        // Without a claim check the same body is refused before anything is sent.
        await expect(mq.queue('plain').send({ blob: big })).rejects.toBeInstanceOf(MessageTooLargeError)
      } finally {
        await mq.close()
      }
    })

    it('keeps a dead letter’s body for the retention (peek and redrive see it), then the sweep deletes it', async () => {
      const mq = await connect(`memory://claim-dlq-${name}`, { adapter: memoryAdapter })
      try {
        const store = makeStore()
        const queue = mq.queue<string>('poison', { claimCheck: { store, thresholdBytes: 100, deadLetterRetentionMs: 60_000 }, retry: false })
        const body = 'y'.repeat(5_000)
        const failing = queue.consume(() => {
          throw new Error('cannot process')
        })
        await failing.ready
        await queue.send(body)
        await waitFor(() => failing.counts.deadLettered === 1, 'the dead letter')
        await failing.close()
        const [dead] = await queue.deadLetters().peek(1)
        expect(dead?.body).toBe(body)
        expect((await store.list('anymq/blobs/')).length).toBe(1)
        expect((await store.list('anymq/expiry/')).length).toBe(1)
        expect(await sweepClaimChecks(store)).toBe(0)

        expect(await queue.deadLetters().redrive()).toBe(1)
        const bodies: string[] = []
        const healed = queue.consume((message) => void bodies.push(message.body))
        await waitFor(() => healed.counts.acked === 1, 'the redriven message')
        expect(bodies).toEqual([body])
        expect(await store.list('anymq/blobs/')).toEqual([])
        expect(await sweepClaimChecks(store, { now: Date.now() + 61_000 })).toBe(1)
        expect(await store.list('anymq/')).toEqual([])
      } finally {
        await mq.close()
      }
    })
  })
}

describe('claim check options', () => {
  it('dead-letters a message whose body is gone from the store, naming the key', async () => {
    const mq = await connect('memory://claim-gone', { adapter: memoryAdapter })
    try {
      const store = new MemoryBlobStore()
      const queue = mq.queue<string>('gone', { claimCheck: { store, thresholdBytes: 10 } })
      await queue.send('z'.repeat(100))
      for (const key of await store.list('')) await store.delete(key)
      const subscription = queue.consume(() => {})
      await waitFor(() => subscription.counts.deadLettered === 1, 'the dead letter')
      const [dead] = await queue.deadLetters().peek(1)
      expect(dead?.error.message).toMatch(/not in the blob store/)
    } finally {
      await mq.close()
    }
  })

  it('refuses a store without the blob-store methods, naming the field', async () => {
    const mq = await connect('memory://claim-options', { adapter: memoryAdapter })
    try {
      expect(() => mq.queue('q', { claimCheck: { store: { put() {} } as never } })).toThrow(ConfigError)
      expect(() => mq.queue('q', { claimCheck: { store: { put() {} } as never } })).toThrow(/claimCheck\.store\.get/)
    } finally {
      await mq.close()
    }
  })
})
