import { connect } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../src/index.js'

function waitUntil(done: () => Promise<boolean>, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const poll = async () => {
      if (await done()) resolve()
      else if (Date.now() - started > 10_000) reject(new Error(`timed out waiting for ${what}`))
      else setTimeout(poll, 2)
    }
    void poll()
  })
}

describe('memory: redrive moves the dead letters present when it started', () => {
  it('moves each dead letter once and reports that count while the consumer dead-letters them again', async () => {
    const mq = await connect('memory://redrive-once', { adapter: memory })
    try {
      const queue = mq.queue<number>('q', { retry: { maxAttempts: 1 } })
      const handled: number[] = []
      await queue.consume((message) => {
        handled.push(message.body)
        throw new Error('still broken')
      }).ready
      await queue.sendBatch([1, 2])
      const dead = queue.deadLetters()
      await waitUntil(async () => (await dead.peek(10)).length === 2, 'two dead letters')

      const moved = await dead.redrive()
      // The redriven copies fail again and come back as new dead letters: not part of this redrive.
      await waitUntil(async () => handled.length >= 4 && (await dead.peek(10)).length === 2, 'the redriven copies to be dead-lettered again')

      expect(moved).toBe(2)
      expect(handled.sort()).toEqual([1, 1, 2, 2])
      expect((await dead.peek(10)).map((letter) => letter.body).sort()).toEqual([1, 2])
    } finally {
      await mq.close()
    }
  })
})
