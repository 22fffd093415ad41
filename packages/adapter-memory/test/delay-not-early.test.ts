import { connect } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

describe('memory: delayed delivery', () => {
  it('never delivers before the delay by the wall clock (Date.now()), whatever the sub-millisecond phase of the send', async () => {
    const mq = await connect('memory://delay-not-early', { adapter })
    try {
      const queue = mq.queue<{ sentAt: number; delayMs: number }>('delayed')
      const early: string[] = []
      let arrived = 0
      await queue.consume((message) => {
        const waited = Date.now() - message.body.sentAt
        if (waited < message.body.delayMs) early.push(`${waited} ms of ${message.body.delayMs}`)
        arrived++
      }).ready
      // Timers count on a millisecond clock of their own: a send late in a millisecond of Date.now()
      // was due up to 1 ms early by it. Sends spread over many phases find that.
      const sends = 300
      for (let index = 0; index < sends; index++) {
        const delayMs = 2 + (index % 7)
        await queue.send({ sentAt: Date.now(), delayMs }, { delayMs })
        await new Promise((resolve) => setTimeout(resolve, index % 3))
      }
      const deadline = Date.now() + 10_000
      while (arrived < sends && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(arrived).toBe(sends)
      expect(early).toEqual([])
    } finally {
      await mq.close()
    }
  })
})
