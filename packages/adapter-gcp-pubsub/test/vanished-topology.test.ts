import { brokerUrl, uniqueName, waitUntil } from '@anymq/conformance'
import { type Anymq, connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

// A connection creates each topic and subscription once. One deleted under it — by another process
// (`anymq` CLI, another service's `delete()`) or an operator — left every later send failing with
// NOT_FOUND and every consumer pulling from nothing, until the process restarted.
describe.skipIf(!url)('a topic and subscription deleted under a running connection (ANYMQ_PUBSUB_URL unset: run scripts/brokers.sh up pubsub)', () => {
  const connections: Anymq[] = []
  afterEach(async () => {
    for (const connection of connections.splice(0)) await connection.close().catch(() => {})
  })
  const open = async () => {
    const mq = await connect(url as string, { adapter })
    connections.push(mq)
    return mq
  }

  it('sends to a queue again, and its running consumer gets what is sent', async () => {
    const [service, operator] = [await open(), await open()]
    const name = uniqueName('vanished-queue')
    const queue = service.queue<{ n: number }>(name)
    const seen: number[] = []
    await queue.consume(async (message) => {
      seen.push(message.body.n)
    }).ready
    await queue.send({ n: 1 })
    await waitUntil(async () => seen.includes(1), 10_000, 'the first message')

    await operator.queue(name).delete()

    await expect(queue.send({ n: 2 })).resolves.toBeDefined()
    await waitUntil(async () => seen.includes(2), 20_000, 'the message sent after the delete')
  }, 40_000)

  it('publishes to a topic again, and its running subscription gets what is published', async () => {
    const [service, operator] = [await open(), await open()]
    const name = uniqueName('vanished-topic')
    const topic = service.topic<{ n: number }>(name)
    const seen: number[] = []
    await topic.subscribe('billing', async (message) => {
      seen.push(message.body.n)
    }).ready
    await topic.publish({ n: 0 })
    await waitUntil(async () => seen.includes(0), 10_000, 'the first message')

    await operator.topic(name).delete()

    // A subscription that is not there yet misses a publish (as a new one would): publish until it is back.
    let n = 0
    await waitUntil(
      async () => {
        await topic.publish({ n: ++n })
        return seen.some((value) => value > 0)
      },
      20_000,
      'a message published after the delete',
    )
  }, 40_000)
})
