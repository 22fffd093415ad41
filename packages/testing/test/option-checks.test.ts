import type { Anymq } from '@anymq/core'
import { ConfigError } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestBroker, installFakeClock } from '../src/index.js'

const open: Anymq[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((mq) => mq.close()))
})

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError, nothing was thrown')
}

describe('createTestBroker options', () => {
  it('refuses a mistyped or out-of-range chaos option instead of running the test without that fault', () => {
    const typo = configErrorOf(() => createTestBroker({ chaos: { seed: 7, duplicates: 0.2 } as never }))
    expect(typo.code).toBe('ERR_CONFIG')
    expect(typo.message).toContain('chaos.duplicates: unknown option; allowed: seed, duplicate, redeliver, failSends, maxDelayMs')

    const all = configErrorOf(() => createTestBroker({ chaos: { seed: 'x', duplicate: 2, failSends: '50%', maxDelayMs: -1 } as never }))
    expect(all.problems.map((problem) => problem.field)).toEqual([
      'createTestBroker options.chaos.seed',
      'createTestBroker options.chaos.duplicate',
      'createTestBroker options.chaos.failSends',
      'createTestBroker options.chaos.maxDelayMs',
    ])
    expect(all.message).toContain('expected a probability from 0 to 1, got 2')

    expect(() => createTestBroker({ chaos: { seed: Date.now(), duplicate: 0, redeliver: 1, failSends: 0.5, maxDelayMs: 0 } })).not.toThrow()
  })
})

describe('until arguments', () => {
  it('refuses a count or timeout that could never be met, at once, with what is allowed', async () => {
    const broker = createTestBroker()
    const mq = await broker.connect()
    open.push(mq)
    const until = broker.until('orders')
    for (const [count, options, expected] of [
      [1.5, undefined, "until('orders').received.count: expected an integer from 0 to ∞, got 1.5"],
      ['3', undefined, "until('orders').received.count: expected an integer from 0 to ∞, got '3'"],
      [-1, undefined, "until('orders').received.count: expected an integer from 0 to ∞, got -1"],
      [1, { timeoutMs: -5 }, "until('orders').received options.timeoutMs: expected an integer from 1 to ∞, got -5"],
      [1, { timeout: 100 }, "until('orders').received options.timeout: unknown option; allowed: timeoutMs"],
    ] as const) {
      const error = await until.received(count as number, options as never).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).message).toContain(expected)
    }
    const notAFunction = await until.matching('x' as never).catch((caught: unknown) => caught)
    expect((notAFunction as ConfigError).message).toContain("until('orders').matching.predicate: expected a function, got a string")
  })
})

describe('installFakeClock options', () => {
  it('refuses a start time that is not a time, instead of a clock whose Date.now() is NaN', () => {
    const invalidDate = configErrorOf(() => installFakeClock({ now: new Date('not a date') }))
    expect(invalidDate.message).toContain('installFakeClock options.now: expected epoch milliseconds or a valid Date, got an invalid Date')
    const typo = configErrorOf(() => installFakeClock({ start: 0 } as never))
    expect(typo.message).toContain('installFakeClock options.start: unknown option; allowed: now')
    // Nothing was installed by the refused calls: the real clock is still there.
    expect(Number.isFinite(Date.now())).toBe(true)
    using clock = installFakeClock({ now: new Date('2026-01-01T00:00:00Z') })
    expect(clock.now()).toBe(Date.UTC(2026, 0, 1))
  })
})
