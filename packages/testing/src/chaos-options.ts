import type { ConfigProblem, OptionCheck, OptionShape } from '@anymq/core/spi'
import { describeValue, integer, objectOf } from '@anymq/core/spi'

/** A probability per message: a number from 0 to 1. */
const probability: OptionCheck = Object.assign(
  (value: unknown, field: string, problems: ConfigProblem[]) => {
    if (value === undefined) return
    if (typeof value !== 'number' || !(value >= 0 && value <= 1))
      problems.push({ field, message: `expected a probability from 0 to 1, got ${describeValue(value, field)}` })
  },
  { expected: 'a probability from 0 to 1', accepts: (value: unknown) => typeof value === 'number' },
)

/** Any whole number: the random source keeps its low 32 bits, so `Date.now()` works as a seed too. */
const seed: OptionCheck = Object.assign(
  (value: unknown, field: string, problems: ConfigProblem[]) => {
    if (value === undefined) return
    if (!Number.isSafeInteger(value)) problems.push({ field, message: `expected a whole number, got ${describeValue(value, field)}` })
  },
  { expected: 'a whole number', accepts: (value: unknown) => typeof value === 'number' },
)

/**
 * The options of `createTestBroker()`. Checked up front because a mistyped fault (`duplicates: 0.2`,
 * `failSends: '50%'`) would otherwise run the test without chaos, and pass for the wrong reason.
 */
export const testBrokerOptionChecks: OptionShape = {
  chaos: objectOf({ seed, duplicate: probability, redeliver: probability, failSends: probability, maxDelayMs: integer(0) }),
}
