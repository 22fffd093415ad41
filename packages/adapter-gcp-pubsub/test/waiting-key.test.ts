import { brokerUrl, uniqueName, waitUntil } from '@anymq/conformance'
import { type Anymq, connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

// Pub/Sub hands out nothing of an ordering key behind a message not yet acknowledged, and a message
// that must wait (a retry's backoff, a delayed send) is held unacknowledged until due: sent with its
// key as ordering key, it held up every later message of that key. Retries never block, nor does a delay.
describe.skipIf(!url)('messages of a key behind one that must wait (ANYMQ_PUBSUB_URL unset: run scripts/brokers.sh up pubsub)', () => {
  let mq: Anymq | undefined
  afterEach(async () => {
    await mq?.close()
  })

  it('are handled while a retry of that key waits out its backoff and a delayed message its time', async () => {
    mq = await connect(url as string, { adapter })
    const queue = mq.queue<{ n: string }>(uniqueName('waiting-key'), {
      retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 8_000, jitter: false } },
    })
    const handled: string[] = []
    const keys = new Set<string | undefined>()
    await queue.consume(
      async (message) => {
        handled.push(`${message.body.n}#${message.attempt}`)
        keys.add(message.key)
        if (message.body.n === 'fails-once' && message.attempt === 1) throw new Error('fails once')
      },
      { concurrency: 4 },
    ).ready
    await queue.send({ n: 'fails-once' }, { key: 'k' })
    await waitUntil(async () => handled.includes('fails-once#1'), 5_000, 'the first attempt')
    await queue.send({ n: 'later' }, { key: 'k', delayMs: 8_000 })
    await queue.send({ n: 'behind' }, { key: 'k' })

    await waitUntil(async () => handled.includes('behind#1'), 4_000, 'the later message of the same key')
    expect(handled).not.toContain('fails-once#2')
    expect(handled).not.toContain('later#1')
    // What waited still comes, when due, with its key.
    await waitUntil(async () => handled.includes('fails-once#2') && handled.includes('later#1'), 15_000, 'the retry and the delayed message')
    expect([...keys]).toEqual(['k'])
  }, 30_000)
})
