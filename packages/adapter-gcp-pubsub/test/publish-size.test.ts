import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

describe.skipIf(!url)(`gcp-pubsub publish size${!url ? ' (ANYMQ_PUBSUB_URL unset: run scripts/brokers.sh up pubsub)' : ''}`, () => {
  // 100 × 64 KiB is 6.4 MiB: over a gRPC server's default 4 MiB request limit (pstest's), so one
  // Publish call for the whole batch is refused; the batch has to go out in several calls, in order.
  it('sends a batch of 100 messages of 64 KiB, every one arriving once and in order', async () => {
    const mq = await connect(url as string, { adapter })
    try {
      const queue = mq.queue<{ seq: number; pad: string }>(uniqueName('big-batch'), { ordered: true })
      const pad = 'x'.repeat(64 * 1024)
      const { ids } = await queue.sendBatch(
        Array.from({ length: 100 }, (_, seq) => ({ seq, pad })),
        { key: 'one-key' },
      )
      expect(ids).toHaveLength(100)
      const seen = new Collector<{ seq: number; pad: string }>()
      await queue.consume(seen.handler, { concurrency: 1 }).ready
      await seen.waitForDistinct(100, 60_000)
      expect(seen.items.map((message) => message.body.seq)).toEqual(Array.from({ length: 100 }, (_, seq) => seq))
      expect(seen.items.every((message) => message.body.pad.length === 64 * 1024)).toBe(true)
    } finally {
      await mq.close()
    }
  }, 90_000)
})
