import type { Anymq } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { waitUntil } from './cases/retry.js'
import { Collector, uniqueName } from './harness.js'

/** How another program puts messages on an anymq queue, with the broker's own tools. */
export interface ForeignMessageTarget {
  name: string
  connect: () => Promise<Anymq>
  /**
   * Puts two messages on `queue` the way a foreign producer would (a CLI): first `malformed.body`,
   * which is not JSON, then `foreign.body` (JSON) carrying `foreign.headers` — the broker's native
   * headers or attributes, some of them anymq's own names with values anymq never writes.
   */
  inject(queue: string, malformed: { body: string }, foreign: { body: string; headers: Record<string, string> }): Promise<void>
  /** Multiplies the waits (a broker with slow polls). Default 1. */
  timeScale?: number
  /**
   * `false` for a broker whose messages carry no headers or attributes of their own (a Kinesis record is
   * data and a partition key): `inject` drops `foreign.headers`, and they are not looked for. Default true.
   */
  nativeHeaders?: boolean
}

/**
 * Messages anymq did not write reach a consumer without crashing it or being lost: a body the codec
 * cannot read ends in the queue's dead-letter queue, its bytes intact and the reason recorded;
 * foreign and malformed headers do not stop a readable body from being handled.
 */
export function describeForeignMessages(target: ForeignMessageTarget): void {
  const ms = (value: number) => value * (target.timeScale ?? 1)
  describe(`anymq foreign messages: ${target.name}`, () => {
    it('dead-letters an unreadable body with the reason, and handles a foreign message with malformed anymq headers', async () => {
      const mq = await target.connect()
      try {
        const name = uniqueName('foreign')
        const queue = mq.queue<{ n: number }>(name)
        const seen = new Collector<{ n: number }>()
        await queue.consume(seen.handler).ready
        const malformed = { body: 'not json {' }
        const foreign = {
          body: '{"n":2}',
          headers: { 'x-anymq-attempt': 'many', 'x-anymq-timestamp': 'yesterday', 'x-anymq-id': '', 'x-foreign-app': 'ünïcødé ✓' },
        }
        await target.inject(name, malformed, foreign)
        await queue.send({ n: 3 })
        await seen.waitForCount(2, ms(30_000))
        expect(seen.bodies).toEqual(expect.arrayContaining([{ n: 2 }, { n: 3 }]))
        if (target.nativeHeaders !== false) expect(seen.items.find((message) => message.body.n === 2)?.headers['x-foreign-app']).toBe('ünïcødé ✓')
        const letters = queue.deadLetters()
        let dead = await letters.peek(10)
        await waitUntil(
          async () => {
            dead = await letters.peek(10)
            return dead.length > 0
          },
          ms(30_000),
          `the unreadable body in ${letters.name}`,
        )
        expect(dead).toHaveLength(1)
        expect(new TextDecoder().decode(dead[0]?.rawBody)).toBe(malformed.body)
        expect(dead[0]?.error.message).toMatch(/not valid UTF-8 JSON/)
        expect(seen.items).toHaveLength(2)
      } finally {
        await mq.close()
      }
    })
  })
}
