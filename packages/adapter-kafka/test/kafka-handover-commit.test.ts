import { brokerUrl, uniqueName } from '@anymq/conformance'
import type { Anymq, Subscription } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { connectTest } from './test-connections.js'

const url = brokerUrl('ANYMQ_KAFKA_URL')

function withDriver(base: string, driver: string): string {
  const parsed = new URL(base)
  parsed.searchParams.set('driver', driver)
  return parsed.toString()
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Several partitions, so that the member that stays and the one that leaves (or loses some) both own some. */
const queueOptions = { broker: { partitions: 4 } }
const total = 600
/** More keys than partitions: records of every partition run at once in a member handling 16 at a time. */
const keys = Array.from({ length: 16 }, (_, index) => `k${index}`)

/**
 * Sends `total` numbered messages over `keys` in small batches, one batch every few ms: records are
 * still arriving while a member closes or a rebalance moves partitions.
 */
async function sendSteadily(producer: Anymq, name: string): Promise<void> {
  const queue = producer.queue<number>(name, queueOptions)
  for (let first = 0; first < total; first += 10) {
    const bodies = Array.from({ length: 10 }, (_, index) => first + index)
    await queue.sendBatch(bodies, (body) => ({ key: keys[body % keys.length] as string }))
    await sleep(15)
  }
}

/** Resolves once every body below `total` was seen by one of the sets, or rejects after `timeoutMs`. */
async function waitForAll(seen: () => Set<number>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (seen().size < total) {
    if (Date.now() > deadline) throw new Error(`only ${seen().size} of ${total} messages arrived`)
    await sleep(50)
  }
}

// A graceful close, and a rebalance that moves partitions away, commit what the member handled first
// (kafkajs and the Java client commit on revoke and close): the next owner of a partition starts right
// after the last record handled, never replays one whose handler returned. A crash may still replay.
for (const driver of ['platformatic', 'kafkajs'] as const) {
  describe.skipIf(!url)(`kafka hand-over commits (${driver} driver)${!url ? ' (ANYMQ_KAFKA_URL unset)' : ''}`, () => {
    it('a member that closes mid-stream commits what it handled: the member taking over replays none of it', async () => {
      const [producer, leaving, staying] = [
        await connectTest(withDriver(url as string, driver)),
        await connectTest(withDriver(url as string, driver)),
        await connectTest(withDriver(url as string, driver)),
      ]
      const name = uniqueName('close-handover')
      const handledByLeaving = new Set<number>()
      const seenByStaying: number[] = []
      const seen = new Set<number>()
      let leavingSubscription: Subscription | undefined
      let closing: Promise<void> | undefined
      // One at a time: what the leaving member handled is a prefix of each partition it read, all committable.
      leavingSubscription = leaving.queue<number>(name, queueOptions).consume(
        async (message) => {
          await sleep(2)
          handledByLeaving.add(message.body)
          seen.add(message.body)
          // Closed as this handler returns: the last records it handled are not committed yet.
          if (handledByLeaving.size === 60) closing = leavingSubscription?.close()
        },
        { concurrency: 1 },
      )
      await Promise.all([
        leavingSubscription.ready,
        staying.queue<number>(name, queueOptions).consume(
          async (message) => {
            seenByStaying.push(message.body)
            seen.add(message.body)
          },
          { concurrency: 4 },
        ).ready,
      ])
      await sendSteadily(producer, name)
      await waitForAll(() => seen, 60_000)
      await closing
      expect(handledByLeaving.size).toBeGreaterThanOrEqual(60)
      expect(seenByStaying.filter((body) => handledByLeaving.has(body)).sort((a, b) => a - b)).toEqual([])
    })

    it('a member that loses partitions in a rebalance commits what it handled first: their new owner replays none of it', async () => {
      const [producer, first, joining] = [
        await connectTest(withDriver(url as string, driver)),
        await connectTest(withDriver(url as string, driver)),
        await connectTest(withDriver(url as string, driver)),
      ]
      const name = uniqueName('rebalance-handover')
      const handledByFirst = new Map<number, number>()
      const seenByJoining = new Map<number, number>()
      const seen = new Set<number>()
      let joined: Promise<void> | undefined
      let rebalancing = false
      await first.queue<number>(name, queueOptions).consume(
        async (message) => {
          // From the join on until it completed, each handler outlasts the first member's next heartbeat
          // (1 s apart), which tells it to rejoin: records of every partition it owns are running then.
          await sleep(rebalancing ? 1_200 : 5)
          handledByFirst.set(message.body, Date.now())
          seen.add(message.body)
          if (handledByFirst.size === 40) {
            rebalancing = true
            joined = joining
              .queue<number>(name, queueOptions)
              .consume(
                async (late) => {
                  seenByJoining.set(late.body, Date.now())
                  seen.add(late.body)
                },
                { concurrency: 4 },
              )
              .ready.finally(() => {
                rebalancing = false
              })
          }
        },
        { concurrency: 16 },
      ).ready
      await sendSteadily(producer, name)
      await waitForAll(() => seen, 60_000)
      await joined
      // The rebalance moved some partitions: the joining member got records of its own.
      expect(seenByJoining.size).toBeGreaterThan(0)
      const replayed = [...seenByJoining.keys()].filter((body) => handledByFirst.has(body)).sort((a, b) => a - b)
      expect(replayed).toEqual([])
    })
  })
}
