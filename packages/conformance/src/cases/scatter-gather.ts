import { RemoteError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { type Harness, uniqueName } from '../harness.js'

const sum = (replies: readonly { response: number }[]) => replies.reduce((total, reply) => total + reply.response, 0)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function scatterGatherCases(h: Harness): void {
  describe('scatter-gather', () => {
    it('gathers a reply from every queue responder and aggregates them', async () => {
      const [server, client] = [await h.connect(), await h.connect()]
      const names = [uniqueName('sg-a'), uniqueName('sg-b'), uniqueName('sg-c')]
      await Promise.all(names.map((name, index) => server.responder<number, number>(name).serve((n) => n * (index + 1)).ready))
      const started = Date.now()
      const result = await client.scatterGather<number, number>({ queues: names }).gather(10, { timeoutMs: h.ms(20_000), aggregate: sum })
      expect(result.timedOut).toBe(false)
      expect(Date.now() - started).toBeLessThan(h.ms(20_000))
      expect(result.replies.map((reply) => [reply.responder, reply.response]).sort()).toEqual([
        [names[0], 10],
        [names[1], 20],
        [names[2], 30],
      ])
      expect(result.errors).toEqual([])
      expect(result.missing).toEqual([])
      expect(result.aggregate).toBe(60)
    })

    it('gathers a reply from every topic responder, each named by its subscription', async () => {
      const [serverA, serverB, client] = [await h.connect(), await h.connect(), await h.connect()]
      const topic = uniqueName('sg-topic')
      await Promise.all([
        serverA.topicResponder<number, number>(topic, 'eu').serve((n) => n + 1).ready,
        serverB.topicResponder<number, number>(topic, 'us').serve((n) => n + 2).ready,
      ])
      const result = await client.scatterGather<number, number>({ topic, responders: ['eu', 'us'] }).gather(100, { timeoutMs: h.ms(20_000), aggregate: sum })
      expect(result.timedOut).toBe(false)
      expect(Object.fromEntries(result.replies.map((reply) => [reply.responder, reply.response]))).toEqual({ eu: 101, us: 102 })
      expect(result.missing).toEqual([])
      expect(result.aggregate).toBe(203)
    })

    it('names a slow responder as missing at the deadline, and completes early when a count is met', async () => {
      const [server, client] = [await h.connect(), await h.connect()]
      const [fast1, fast2, slow] = [uniqueName('sg-fast'), uniqueName('sg-fast'), uniqueName('sg-slow')]
      const slowMs = h.ms(4_000)
      await Promise.all([
        server.responder<string, string>(fast1).serve(() => 'one').ready,
        server.responder<string, string>(fast2).serve(() => 'two').ready,
        server.responder<string, string>(slow).serve(async () => {
          await sleep(slowMs)
          return 'late'
        }).ready,
      ])
      const gatherer = client.scatterGather<string, string>({ queues: [fast1, fast2, slow] })
      const deadline = h.ms(1_500)
      const started = Date.now()
      const partial = await gatherer.gather('q', { timeoutMs: deadline })
      expect(Date.now() - started).toBeGreaterThanOrEqual(deadline - 10)
      expect(partial.timedOut).toBe(true)
      expect(partial.replies.map((reply) => reply.responder).sort()).toEqual([fast1, fast2].sort())
      expect(partial.missing).toEqual([slow])
      expect(partial.errors).toEqual([])

      const early = Date.now()
      const two = await gatherer.gather('q', { expect: 2, timeoutMs: h.ms(20_000) })
      expect(Date.now() - early).toBeLessThan(slowMs)
      expect(two.timedOut).toBe(false)
      expect(two.replies).toHaveLength(2)
      expect(two.missing).toEqual([slow])
    })

    it('keeps a responder that throws apart from the successes', async () => {
      const [server, client] = [await h.connect(), await h.connect()]
      const topic = uniqueName('sg-throws')
      await Promise.all([
        server.topicResponder<number, number>(topic, 'good').serve((n) => n * 2).ready,
        server.topicResponder<number, number>(topic, 'bad').serve(() => {
          throw new RangeError('out of stock')
        }).ready,
      ])
      const result = await client.scatterGather<number, number>({ topic, responders: ['good', 'bad'] }).gather(21, { timeoutMs: h.ms(20_000), aggregate: sum })
      expect(result.timedOut).toBe(false)
      expect(result.replies).toEqual([{ responder: 'good', response: 42 }])
      expect(result.errors).toHaveLength(1)
      expect(result.errors[0]?.responder).toBe('bad')
      expect(result.errors[0]?.error).toBeInstanceOf(RemoteError)
      expect(result.errors[0]?.error.message).toContain('RangeError: out of stock')
      expect(result.missing).toEqual([])
      expect(result.aggregate).toBe(42)
    })

    it('resolves with nothing and every responder missing when none answers', async () => {
      const client = await h.connect()
      const names = [uniqueName('sg-silent'), uniqueName('sg-silent')]
      const started = Date.now()
      const result = await client.scatterGather({ queues: names }).gather({}, { timeoutMs: 400 })
      expect(Date.now() - started).toBeGreaterThanOrEqual(390)
      expect(result).toEqual({ replies: [], errors: [], missing: names, timedOut: true, aggregate: undefined })
    })
  })
}
