import { MemoryBlobStore, MemoryIdempotencyStore } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { createTestBroker } from '../src/index.js'

describe('claim check under duplicate deliveries (chaos mode)', () => {
  it('with idempotency, a duplicate whose body was deleted after the first ack is skipped, not dead-lettered', async () => {
    // Every message stored twice with the same id and the same claim-check key, as a producer retry would.
    const mq = await createTestBroker({ chaos: { duplicate: 1 } }).connect()
    try {
      const store = new MemoryBlobStore()
      const queue = mq.queue<string>('uploads', { claimCheck: { store, thresholdBytes: 100 } })
      const handled: string[] = []
      const subscription = queue.consume((message) => void handled.push(message.body), { idempotency: { store: new MemoryIdempotencyStore() } })
      await subscription.ready
      await queue.send('u'.repeat(10_000))
      for (let tries = 0; tries < 500 && subscription.counts.acked < 2; tries++) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(handled).toHaveLength(1)
      expect(subscription.counts).toMatchObject({ acked: 2, duplicates: 1, deadLettered: 0 })
      expect(await store.list('anymq/blobs/')).toEqual([])
    } finally {
      await mq.close()
    }
  })

  it('without idempotency, that duplicate is dead-lettered naming the missing body — never dropped silently', async () => {
    const mq = await createTestBroker({ chaos: { duplicate: 1 } }).connect()
    try {
      const store = new MemoryBlobStore()
      const queue = mq.queue<string>('uploads-plain', { claimCheck: { store, thresholdBytes: 100 } })
      const subscription = queue.consume(() => {})
      await subscription.ready
      await queue.send('u'.repeat(10_000))
      for (let tries = 0; tries < 500 && subscription.counts.acked < 2; tries++) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(subscription.counts).toMatchObject({ acked: 2, deadLettered: 1 })
      const [dead] = await queue.deadLetters().peek(1)
      expect(dead?.error.message).toMatch(/not in the blob store/)
    } finally {
      await mq.close()
    }
  })
})
