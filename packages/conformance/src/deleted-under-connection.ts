import type { Anymq } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { waitUntil } from './cases/retry.js'
import { uniqueName } from './harness.js'

/** A broker whose queues and topics another connection may delete while a service uses them. */
export interface DeletedUnderConnectionTarget {
  /** Shown in the suite's title. */
  name: string
  /** Opens a connection to the broker under test; each case opens two (the service, the operator). */
  connect: () => Promise<Anymq>
  /** What the broker brings back (default both); the adapter's README says why one is left out. */
  kinds?: ReadonlyArray<'queue' | 'topic'>
}

/**
 * A queue or topic deleted under a running connection — by another process (the `anymq` CLI, another
 * service's `delete()`) or an operator — must come back: later sends succeed and the running consumer
 * or subscription gets them. A subscription made again misses what was published while it was gone,
 * as a new one would, so the topic case publishes until one arrives.
 */
export function describeDeletedUnderConnection(target: DeletedUnderConnectionTarget): void {
  describe(`anymq: a queue or topic deleted under a running connection comes back (${target.name})`, () => {
    const connections: Anymq[] = []
    afterEach(async () => {
      for (const connection of connections.splice(0)) await connection.close().catch(() => {})
    })
    const open = async () => {
      const mq = await target.connect()
      connections.push(mq)
      return mq
    }

    const kinds = target.kinds ?? ['queue', 'topic']
    if (kinds.includes('queue'))
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

    if (kinds.includes('topic'))
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
}
