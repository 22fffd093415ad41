import { UnsupportedFeatureError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, type Harness, uniqueName } from '../harness.js'

export function delayCases(h: Harness): void {
  describe('delay', () => {
    const delay = h.capabilities.delay
    if (delay === false) {
      it('refuses delayMs with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        await expect(mq.queue(uniqueName('delay'), h.target.queueOptions).send('x', { delayMs: 100 })).rejects.toBeInstanceOf(UnsupportedFeatureError)
      })
      return
    }
    it('delivers a delayed message no sooner than its delay, without holding back others', async () => {
      const mq = await h.connect()
      const queue = mq.queue<string>(uniqueName('delay'), h.target.queueOptions)
      const seen = new Collector<string>()
      const arrived = new Map<string, number>()
      await queue.consume((message) => {
        arrived.set(message.body, Date.now())
        seen.add(message)
      }).ready
      const sentAt = Date.now()
      await queue.send('later', { delayMs: 1500 })
      await queue.send('now')
      await seen.waitForCount(2, h.ms(20_000))
      expect(seen.bodies).toEqual(['now', 'later'])
      expect((arrived.get('later') ?? 0) - sentAt).toBeGreaterThanOrEqual(1450)
    })

    it('refuses a delay longer than the adapter’s maximum with UnsupportedFeatureError', async () => {
      const mq = await h.connect()
      const error = await mq
        .queue(uniqueName('delay-max'), h.target.queueOptions)
        .send('x', { delayMs: delay.maxMs + 1 })
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(UnsupportedFeatureError)
      expect((error as Error).message).toContain(String(delay.maxMs))
    })
  })
}
