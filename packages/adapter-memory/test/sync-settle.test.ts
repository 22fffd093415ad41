import { connect } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

describe('memory: a handler that returns no promise is settled in the same turn', () => {
  it('keeps up with a producer of 64 sends in flight: the backlog never grows past the producer window', async () => {
    const mq = await connect('memory://sync-settle', { adapter })
    const queue = mq.queue<number>('paced')
    let handled = 0
    let sent = 0
    let largestBacklog = 0
    const sub = queue.consume(
      () => {
        handled++
      },
      { concurrency: 16 },
    )
    await sub.ready
    const total = 20_000
    let next = 0
    const producer = async () => {
      while (next < total) {
        next++
        await queue.send(next)
        sent++
        largestBacklog = Math.max(largestBacklog, sent - handled)
      }
    }
    await Promise.all(Array.from({ length: 64 }, producer))
    expect(handled).toBe(total)
    // Had each slot waited a turn for its ack, 64 sends per turn against 16 slots would pile up thousands.
    expect(largestBacklog).toBeLessThanOrEqual(64)
    expect(sub.counts.acked).toBe(total)
    await mq.close()
  })

  it('an async handler still holds its slot until its promise settles', async () => {
    const mq = await connect('memory://sync-settle-async', { adapter })
    const queue = mq.queue<number>('async')
    let running = 0
    let most = 0
    let handled = 0
    const sub = queue.consume(
      async () => {
        running++
        most = Math.max(most, running)
        await new Promise((resolve) => setTimeout(resolve, 1))
        running--
        handled++
      },
      { concurrency: 4 },
    )
    await sub.ready
    await queue.sendBatch(Array.from({ length: 40 }, (_, index) => index))
    while (handled < 40) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(most).toBe(4)
    await mq.close()
  })
})
