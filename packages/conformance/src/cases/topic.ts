import { UnsupportedFeatureError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, type Harness, uniqueName } from '../harness.js'

export function topicCases(h: Harness): void {
  describe('topic', () => {
    it('gives every named subscription every message', async () => {
      const [publisher, subscriber] = [await h.connect(), await h.connect()]
      const name = uniqueName('fanout')
      const collectors = [new Collector<number>(), new Collector<number>(), new Collector<number>()]
      const topic = subscriber.topic<number>(name)
      await Promise.all(collectors.map((collector, index) => topic.subscribe(`sub${index}`, collector.handler).ready))
      await publisher.topic<number>(name).publishBatch(Array.from({ length: 50 }, (_, index) => index))
      await Promise.all(collectors.map((collector) => collector.waitForCount(50, h.ms(20_000))))
      for (const collector of collectors) expect(collector.bodies.sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, index) => index))
    })

    it('makes consumers sharing a subscription name compete (a consumer group)', async () => {
      const [first, second] = [await h.connect(), await h.connect()]
      const name = uniqueName('group')
      const seen = new Collector<number>()
      const other = new Collector<number>()
      await Promise.all([
        first.topic<number>(name).subscribe('workers', seen.handler).ready,
        second.topic<number>(name).subscribe('workers', seen.handler).ready,
        second.topic<number>(name).subscribe('audit', other.handler).ready,
      ])
      await first.topic<number>(name).publishBatch(Array.from({ length: 100 }, (_, index) => index))
      await Promise.all([seen.waitForCount(100, h.ms(20_000)), other.waitForCount(100, h.ms(20_000))])
      await first.close()
      await second.close()
      expect(seen.bodies.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, index) => index))
      expect(other.items).toHaveLength(100)
    })

    it('delivers to an ephemeral subscriber while it is attached', async () => {
      const mq = await h.connect()
      const topic = mq.topic<string>(uniqueName('ephemeral'))
      const [first, second] = [new Collector<string>(), new Collector<string>()]
      await Promise.all([topic.subscribe(undefined, first.handler).ready, topic.subscribe(undefined, second.handler).ready])
      await topic.publish('hello')
      await Promise.all([first.waitForCount(1, h.ms(10_000)), second.waitForCount(1, h.ms(10_000))])
      expect([first.bodies, second.bodies]).toEqual([['hello'], ['hello']])
    })

    it('keeps a named subscription’s messages while no consumer is attached', async () => {
      const mq = await h.connect()
      const topic = mq.topic<number>(uniqueName('durable'))
      const seen = new Collector<number>()
      const sub = topic.subscribe('durable', seen.handler)
      await sub.ready
      await sub.close()
      await topic.publishBatch([1, 2, 3])
      await topic.subscribe('durable', seen.handler).ready
      await seen.waitForCount(3, h.ms(15_000))
      expect(seen.bodies.sort()).toEqual([1, 2, 3])
    })

    it('keeps topics apart: a subscription never sees another topic’s messages', async () => {
      const mq = await h.connect()
      const [first, second] = [mq.topic<string>(uniqueName('tiso-a')), mq.topic<string>(uniqueName('tiso-b'))]
      const [seenFirst, seenSecond] = [new Collector<string>(), new Collector<string>()]
      await Promise.all([first.subscribe('s', seenFirst.handler).ready, second.subscribe('s', seenSecond.handler).ready])
      await Promise.all([first.publish('a'), second.publish('b')])
      await Promise.all([seenFirst.waitForCount(1, h.ms(10_000)), seenSecond.waitForCount(1, h.ms(10_000))])
      await first.publish('a2')
      await seenFirst.waitForCount(2, h.ms(10_000))
      expect(seenFirst.bodies).toEqual(['a', 'a2'])
      expect(seenSecond.bodies).toEqual(['b'])
    })

    if (h.capabilities.topicFilters.subject) {
      it('filters by subject pattern (* one word, # any number of words)', async () => {
        const mq = await h.connect()
        const topic = mq.topic<string>(uniqueName('subject'))
        const [created, europe, all] = [new Collector<string>(), new Collector<string>(), new Collector<string>()]
        await Promise.all([
          topic.subscribe('created', created.handler, {
            filter: { subject: 'orders.*.created' },
          }).ready,
          topic.subscribe('europe', europe.handler, {
            filter: { subject: 'orders.eu.#' },
          }).ready,
          topic.subscribe('all', all.handler, { filter: { subject: '#' } }).ready,
        ])
        await topic.publish('eu-created', { subject: 'orders.eu.created' })
        await topic.publish('us-created', { subject: 'orders.us.created' })
        await topic.publish('eu-shipped', { subject: 'orders.eu.shipped' })
        await topic.publish('eu-deep', { subject: 'orders.eu.x.y' })
        await all.waitForCount(4, h.ms(10_000))
        await created.waitForCount(2, h.ms(10_000))
        await europe.waitForCount(3, h.ms(10_000))
        expect(created.bodies.sort()).toEqual(['eu-created', 'us-created'])
        expect(europe.bodies.sort()).toEqual(['eu-created', 'eu-deep', 'eu-shipped'])
      })
    } else {
      it('refuses subject filters with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        expect(() => mq.topic(uniqueName('subject')).subscribe('s', () => {}, { filter: { subject: 'a.*' } })).toThrow(UnsupportedFeatureError)
      })
    }

    if (h.capabilities.topicFilters.headers) {
      it('filters by header values', async () => {
        const mq = await h.connect()
        const topic = mq.topic<string>(uniqueName('headers'))
        const [eu, everything] = [new Collector<string>(), new Collector<string>()]
        await Promise.all([
          topic.subscribe('eu', eu.handler, {
            filter: { headers: { region: 'eu' } },
          }).ready,
          topic.subscribe('everything', everything.handler).ready,
        ])
        await topic.publish('one', { headers: { region: 'eu' } })
        await topic.publish('two', { headers: { region: 'us' } })
        await topic.publish('three')
        await topic.publish('four', { headers: { region: 'eu', extra: 'x' } })
        await everything.waitForCount(4, h.ms(10_000))
        await eu.waitForCount(2, h.ms(10_000))
        expect(eu.bodies.sort()).toEqual(['four', 'one'])
      })
    } else {
      it('refuses header filters with UnsupportedFeatureError', async () => {
        const mq = await h.connect()
        expect(() => mq.topic(uniqueName('headers')).subscribe('s', () => {}, { filter: { headers: { a: 'b' } } })).toThrow(UnsupportedFeatureError)
      })
    }

    if (h.capabilities.replay) {
      it("replays retained messages to a new subscription with startFrom: 'earliest'", async () => {
        const mq = await h.connect()
        const topic = mq.topic<number>(uniqueName('replay'))
        await topic.publishBatch([1, 2, 3])
        const seen = new Collector<number>()
        await topic.subscribe('late', seen.handler, { startFrom: 'earliest' }).ready
        await seen.waitForCount(3, h.ms(15_000))
        expect(seen.bodies.sort()).toEqual([1, 2, 3])
      })
    } else {
      it("refuses startFrom: 'earliest' with UnsupportedFeatureError", async () => {
        const mq = await h.connect()
        expect(() => mq.topic(uniqueName('replay')).subscribe('s', () => {}, { startFrom: 'earliest' })).toThrow(UnsupportedFeatureError)
      })
    }
  })
}
