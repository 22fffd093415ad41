import { brokerUrl, uniqueName, waitUntil } from '@anymq/conformance'
import { type Anymq, connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_NATS_URL')

// A subscription's retry is a copy stored in the topic stream, which drops messages older than
// ?topicMaxAgeMs. A backoff longer than that let the copy go before it was due: the message was
// neither retried nor dead-lettered.
describe.skipIf(!url)('a topic retry whose backoff is longer than ?topicMaxAgeMs (ANYMQ_NATS_URL unset: run scripts/brokers.sh up nats)', () => {
  let mq: Anymq | undefined
  afterEach(async () => {
    await mq?.close()
  })

  it('is still retried, after at most what the stream keeps', async () => {
    const short = new URL(url as string)
    short.searchParams.set('topicMaxAgeMs', '2000')
    const warnings: string[] = []
    mq = await connect(short.href, {
      adapter,
      logger: { debug() {}, info() {}, warn: (line: string) => warnings.push(line), error() {} },
    })
    const topic = mq.topic<{ n: number }>(uniqueName('topic-retry-age'))
    const attempts: number[] = []
    await topic.subscribe(
      'billing',
      async (message) => {
        attempts.push(message.attempt)
        if (message.attempt === 1) throw new Error('fails once')
      },
      { retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 5_000, jitter: false } } },
    ).ready
    await topic.publish({ n: 1 })

    await waitUntil(async () => attempts.includes(2), 10_000, 'the second attempt')
    expect(warnings.some((line) => line.includes('topicMaxAgeMs'))).toBe(true)
  }, 20_000)
})
