import { randomBytes } from 'node:crypto'
import { MemoryBlobStore } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, delay, type Harness, uniqueName, withTimeout } from '../harness.js'

/** Bodies over this go through the blob store: small enough for every broker's own limit not to matter. */
const thresholdBytes = 16 * 1024
const largeBytes = 200_000

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!(await check())) await delay(20)
    })(),
    timeoutMs,
    what,
  )
}

/**
 * The claim check over a real broker: the reference must survive a send, a retry and a trip through
 * the dead-letter queue and back. The blob store is the in-process one (any store keeps the same
 * contract); what is under test is what the broker carries.
 */
export function claimCheckCases(h: Harness): void {
  describe('claim check', () => {
    it('carries a body over the threshold by reference, with headers and key, and deletes it after the ack', async () => {
      const mq = await h.connect()
      const store = new MemoryBlobStore()
      const queue = mq.queue<Uint8Array>(uniqueName('cc-trip'), { ...h.target.queueOptions, codec: 'raw', claimCheck: { store, thresholdBytes } })
      const seen = new Collector<Uint8Array>()
      await queue.consume(seen.handler).ready
      const body = randomBytes(largeBytes)
      await queue.send(body, { key: 'k-1', headers: { tenant: 'acme' } })
      await queue.send(new Uint8Array([1, 2, 3]))
      await seen.waitForCount(2, h.ms(20_000))
      const large = seen.items.find((message) => message.body.byteLength > 3)
      expect(Buffer.from(large!.body).equals(body)).toBe(true)
      expect(large!.headers).toEqual({ tenant: 'acme' })
      expect(large!.key).toBe('k-1')
      await until(async () => (await store.list('anymq/blobs/')).length === 0, h.ms(10_000), 'the blob to be deleted after the ack')
    })

    it('keeps the body across a retry, and deletes it once the retried delivery is acked', async () => {
      const mq = await h.connect()
      const store = new MemoryBlobStore()
      const queue = mq.queue<string>(uniqueName('cc-retry'), {
        ...h.target.queueOptions,
        claimCheck: { store, thresholdBytes },
        retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 50 } },
      })
      const body = 'r'.repeat(largeBytes)
      const attempts: number[] = []
      const subscription = queue.consume((message) => {
        attempts.push(message.attempt)
        expect(message.body).toBe(body)
        if (message.attempt === 1) throw new Error('first attempt fails')
      })
      await subscription.ready
      await queue.send(body)
      await until(() => subscription.counts.acked === 1, h.ms(30_000), 'the retried message to be acked')
      expect(attempts).toEqual([1, 2])
      await until(async () => (await store.list('anymq/blobs/')).length === 0, h.ms(10_000), 'the blob to be deleted after the ack')
    })

    it('keeps a dead letter’s body with an expiry marker; peek shows it and redrive delivers it', async () => {
      const mq = await h.connect()
      const store = new MemoryBlobStore()
      const queue = mq.queue<string>(uniqueName('cc-dead'), { ...h.target.queueOptions, claimCheck: { store, thresholdBytes }, retry: false })
      const body = 'd'.repeat(largeBytes)
      const failing = queue.consume(() => {
        throw new Error('poison')
      })
      await failing.ready
      await queue.send(body)
      await until(() => failing.counts.deadLettered === 1, h.ms(30_000), 'the dead letter')
      await failing.close()
      expect((await store.list('anymq/blobs/')).length).toBe(1)
      expect((await store.list('anymq/expiry/')).length).toBe(1)
      await until(async () => (await queue.deadLetters().peek(1)).length === 1, h.ms(20_000), 'the dead letter to be visible')
      const [dead] = await queue.deadLetters().peek(1)
      expect(dead?.body).toBe(body)
      expect(await queue.deadLetters().redrive()).toBe(1)
      const healed = new Collector<string>()
      await queue.consume(healed.handler).ready
      await healed.waitForCount(1, h.ms(30_000))
      expect(healed.bodies).toEqual([body])
    })
  })
}
