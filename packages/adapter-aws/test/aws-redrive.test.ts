import { brokerUrl, uniqueName } from '@anymq/conformance'
import { type Anymq, connect, Unrecoverable } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')

/** Reads until `check` holds (SQS receives are approximate: one peek may miss a message). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (check(value)) return value
    if (Date.now() > until) throw new Error(`${what}: not yet after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

describe.skipIf(!url)(`aws redrive against the broker${!url ? ' (ANYMQ_SQS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  const open: Anymq[] = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
  })

  it('ends a redrive while a consumer dead-letters the redriven messages again, moving each once', async () => {
    const mq = await connect(`${url}&waitTimeSeconds=1`, { adapter })
    open.push(mq)
    const name = uniqueName('redrive-live')
    const queue = mq.queue<string>(name, { retry: { maxAttempts: 1 }, deadLetter: `${name}.dlq` })
    const handled: string[] = []
    // Still broken: every message it gets goes straight back to the dead-letter queue.
    await queue.consume(async (message) => {
      handled.push(message.body)
      throw new Unrecoverable('still broken')
    }).ready
    await queue.sendBatch(['a', 'b'])
    await eventually(
      () => queue.deadLetters().peek(10),
      (dead) => dead.length === 2,
      20_000,
      'both messages dead-lettered',
    )

    // Before the fix the move kept receiving the copies the consumer dead-lettered again, forever.
    const outcome = await Promise.race([
      queue.deadLetters().redrive(),
      new Promise<string>((resolve) => setTimeout(() => resolve('still redriving after 20 s'), 20_000).unref()),
    ])
    expect(outcome).toBe(2)
    // Nothing lost: both came back to the consumer and are dead letters again.
    await eventually(
      () => queue.deadLetters().peek(10),
      (dead) => dead.length === 2,
      20_000,
      'both messages dead-lettered again',
    )
    expect(handled.filter((body) => body === 'a').length).toBeGreaterThanOrEqual(2)
    expect(handled.filter((body) => body === 'b').length).toBeGreaterThanOrEqual(2)
  }, 60_000)
})
