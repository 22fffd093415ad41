import { type AdminCapabilities, type Anymq, type DestinationStats, Unrecoverable, UnsupportedFeatureError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, deferred, eventually, type Harness, uniqueName } from '../harness.js'

/** Sends `bodies` to a fresh queue whose consumer dead-letters every one of them at once; resolves when all are dead letters. */
async function deadLettered(h: Harness, mq: Anymq, name: string, bodies: string[]): Promise<string[]> {
  const queue = mq.queue<string>(name, { ...h.target.queueOptions, retry: false })
  const failing = queue.consume(() => {
    throw new Unrecoverable('refused by the admin conformance case')
  })
  await failing.ready
  const { ids } = await queue.sendBatch(bodies)
  await eventually(
    () => queue.deadLetters().peek(bodies.length + 1),
    (letters) => letters.length === bodies.length,
    h.ms(20_000),
    `dead letters of ${name}`,
  )
  await failing.close()
  return ids
}

/**
 * Two of three messages held by handlers, the third settled. A broker that counts in-flight messages
 * counts 2 in flight and none ready. One that does not (`inFlight` undefined) either still tells them
 * from the waiting ones (none ready: AMQP) or cannot (a log's consumer lag): then the held ones are
 * ready, and the settled one too when it sits behind them in the log.
 */
function heldCounted(stats: DestinationStats): boolean {
  if (stats.inFlight !== undefined) return stats.ready === 0 && stats.inFlight === 2
  return stats.ready === 0 || (stats.ready >= 2 && stats.ready <= 3)
}

export function adminCases(h: Harness): void {
  describe('admin', () => {
    const admin: Partial<AdminCapabilities> = h.capabilities.admin ?? {}

    if (!admin.stats) {
      it('refuses stats() with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        await expect(mq.queue(uniqueName('stats'), h.target.queueOptions).stats()).rejects.toBeInstanceOf(UnsupportedFeatureError)
      })
    } else {
      it('counts ready, in-flight and dead-lettered messages and consumers of a queue', async () => {
        const mq = await h.connect()
        const name = uniqueName('stats')
        const queue = mq.queue<string>(name, { ...h.target.queueOptions, retry: false })
        await queue.sendBatch(['a', 'b', 'c'])
        const waiting = await eventually(
          () => queue.stats(),
          (stats) => stats.ready === 3,
          h.ms(20_000),
          `stats of ${name}`,
        )
        expect(waiting.name).toBe(name)
        expect(waiting.deadLettered ?? 0).toBe(0)
        if (waiting.oldestAgeMs !== undefined) expect(waiting.oldestAgeMs).toBeGreaterThanOrEqual(0)
        const release = deferred()
        const held = new Collector<string>()
        const consumer = queue.consume(
          async (message) => {
            held.add(message)
            if (message.body === 'c') throw new Unrecoverable('dead-letter one for the count')
            await release.promise
          },
          { concurrency: 4 },
        )
        await held.waitForCount(3, h.ms(20_000))
        const busy = await eventually(
          () => queue.stats(),
          (stats) => heldCounted(stats) && (stats.deadLettered ?? 1) === 1 && (stats.consumers ?? 1) >= 1,
          h.ms(20_000),
          `stats of ${name} while two handlers hold their messages`,
        )
        expect(heldCounted(busy)).toBe(true)
        release.resolve()
        await consumer.close()
        await eventually(
          () => queue.stats(),
          (stats) => (stats.inFlight ?? 0) === 0 && stats.ready === 0,
          h.ms(20_000),
          `stats of ${name} after the acks`,
        )
      })

      it('counts the messages of one subscription apart from the others', async () => {
        const mq = await h.connect()
        const topic = mq.topic<string>(uniqueName('stats-topic'))
        const [kept, other] = [new Collector<string>(), new Collector<string>()]
        const ready = [topic.subscribe('kept', kept.handler), topic.subscribe('other', other.handler)]
        await Promise.all(ready.map((subscription) => subscription.ready))
        await Promise.all(ready.map((subscription) => subscription.close()))
        await topic.publishBatch(['one', 'two'])
        await eventually(
          () => topic.stats('kept'),
          (stats) => stats.ready === 2,
          h.ms(20_000),
          'stats of subscription kept',
        )
        expect((await topic.stats('kept')).name).toBe(`${topic.name}/kept`)
        if (admin.purge) {
          await topic.purge('other')
          await eventually(
            () => topic.stats('other'),
            (stats) => stats.ready === 0,
            h.ms(20_000),
            'stats of the purged subscription',
          )
          expect((await topic.stats('kept')).ready).toBe(2)
        }
      })
    }

    if (!admin.purge) {
      it('refuses purge() with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        await expect(mq.queue(uniqueName('purge'), h.target.queueOptions).purge()).rejects.toBeInstanceOf(UnsupportedFeatureError)
      })
    } else {
      it('purges the waiting messages of a queue and keeps taking new ones', async () => {
        const mq = await h.connect()
        const queue = mq.queue<string>(uniqueName('purge'), h.target.queueOptions)
        await queue.sendBatch(['old-1', 'old-2', 'old-3'])
        await queue.purge()
        await queue.send('new')
        const seen = new Collector<string>()
        const consumer = queue.consume(seen.handler)
        await seen.waitForCount(1, h.ms(20_000))
        await consumer.close()
        expect(seen.bodies).toEqual(['new'])
      })
    }

    if (!admin.list || !admin.delete) {
      it('refuses list() or delete() it does not declare with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        if (!admin.list) await expect(mq.list({ prefix: 'conf-' })).rejects.toBeInstanceOf(UnsupportedFeatureError)
        if (!admin.delete) await expect(mq.queue(uniqueName('delete'), h.target.queueOptions).delete()).rejects.toBeInstanceOf(UnsupportedFeatureError)
      })
    }
    if (admin.delete && admin.stats) {
      it('deletes a queue with its waiting messages', async () => {
        const mq = await h.connect()
        const queue = mq.queue<string>(uniqueName('delete'), { ...h.target.queueOptions, deadLetter: false })
        await queue.sendBatch(['gone-1', 'gone-2'])
        await eventually(
          () => queue.stats(),
          (stats) => stats.ready === 2,
          h.ms(20_000),
          'stats before delete',
        )
        await queue.delete()
        await queue.delete()
        await queue.send('after')
        await eventually(
          () => queue.stats(),
          (stats) => stats.ready === 1,
          h.ms(20_000),
          'stats of the queue made again after delete',
        )
      })
    }
    if (admin.list && admin.delete) {
      it('lists the queues, topics and subscriptions it made, and forgets what it deleted', async () => {
        const mq = await h.connect()
        const prefix = uniqueName('list')
        const queue = mq.queue<string>(`${prefix}-queue`, { ...h.target.queueOptions, deadLetter: false })
        await queue.send('x')
        const topic = mq.topic<string>(`${prefix}-topic`)
        const subscription = topic.subscribe('audit', () => {}, { deadLetter: false })
        await subscription.ready
        await subscription.close()
        await topic.publish('y')
        const listed = await mq.list({ prefix })
        expect(listed).toEqual([
          { kind: 'queue', name: `${prefix}-queue` },
          { kind: 'topic', name: `${prefix}-topic` },
          { kind: 'subscription', name: 'audit', topic: `${prefix}-topic` },
        ])
        await topic.deleteSubscription('audit')
        expect(await mq.list({ prefix })).toEqual(listed.slice(0, 2))
        await queue.delete()
        await topic.delete()
        expect(await mq.list({ prefix })).toEqual([])
        await queue.delete()
      })
    }

    if (!admin.deadLetterById) {
      it('refuses per-message dead-letter operations with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        await expect(mq.queue(uniqueName('dlq-one'), h.target.queueOptions).deadLetters().deleteOne('x')).rejects.toBeInstanceOf(UnsupportedFeatureError)
      })
    } else {
      it('redrives one, deletes one and edits and redrives one dead letter by id, leaving the others', async () => {
        const mq = await h.connect()
        const name = uniqueName('dlq-one')
        const [first, second, third, fourth] = await deadLettered(h, mq, name, ['first', 'second', 'third', 'fourth'])
        const queue = mq.queue<string>(name, { ...h.target.queueOptions, retry: false })
        const dead = queue.deadLetters()
        expect(await dead.deleteOne(first as string)).toBe(true)
        expect(await dead.deleteOne(first as string)).toBe(false)
        expect(await dead.redriveOne(second as string)).toBe(true)
        expect(await dead.editAndRedrive(third as string, { body: 'third, fixed', headers: { fixed: 'yes' } })).toBe(true)
        const seen = new Collector<string>()
        const consumer = queue.consume(seen.handler)
        await seen.waitForCount(2, h.ms(20_000))
        await consumer.close()
        expect(seen.bodies.sort()).toEqual(['second', 'third, fixed'])
        // The failing consumer closed just before: its last long poll may have handed a redriven copy back (see the option).
        const freshAttempts = h.target.handBacksCountAsAttempts ? [1, 2] : [1]
        for (const message of seen.items) expect(freshAttempts).toContain(message.attempt)
        expect(seen.items.find((message) => message.body === 'third, fixed')?.headers.fixed).toBe('yes')
        const left = await dead.peek(10)
        expect(left.map((letter) => letter.id)).toEqual([fourth])
      })
    }
  })
}
