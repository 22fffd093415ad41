import type { Handler } from './consumer-engine.js'
import { ConfigError, UnsupportedFeatureError } from './errors.js'
import type { IdempotencyOptions } from './idempotency-store.js'
import { abortSignal, integer, type OptionCheck, objectOf, ofType, oneOf, required, validateOptions, withMembers } from './options-validation.js'
import type { Runtime } from './runtime.js'
import type { ConsumeOptions } from './subscription.js'

export const consumeOptionChecks: Record<keyof ConsumeOptions, OptionCheck> = {
  concurrency: integer(1, 10_000),
  prefetch: integer(1, 100_000),
  ack: oneOf('auto', 'manual'),
  leaseMs: integer(1),
  signal: abortSignal(),
  onError: ofType('function'),
  idempotency: objectOf(
    {
      store: required(withMembers({ process: required(ofType('function')) }, 'an idempotency store (an object with process(messageId, work))')),
      ttlMs: integer(1),
    },
    'an object { store, ttlMs? }',
  ),
}

/** Validates consume options and fills defaults; every problem reported at once. */
export function resolveConsumeOptions(
  runtime: Runtime,
  handler: Handler<never>,
  options: ConsumeOptions,
  where: string,
  extraChecks: Record<string, OptionCheck> = {},
): {
  concurrency: number
  prefetch: number
  ack: 'auto' | 'manual'
  leaseMs: number | undefined
  onError: (error: Error) => void
  idempotency: IdempotencyOptions | undefined
} {
  if (typeof handler !== 'function')
    throw new ConfigError(
      [
        {
          field: `${where} handler`,
          message: 'expected a function (message) => …',
        },
      ],
      { adapter: runtime.adapter },
    )
  validateOptions(options, { ...consumeOptionChecks, ...extraChecks }, `${where} options`, runtime.adapter)
  if (options.leaseMs !== undefined && !runtime.capabilities.leaseExpiry) {
    throw new UnsupportedFeatureError(
      runtime.adapter,
      'leaseMs (lease expiry)',
      'the broker redelivers unsettled messages when the consumer disconnects; omit leaseMs',
    )
  }
  if (options.idempotency !== undefined && options.ack === 'manual') {
    // The id is recorded when the handler returns; a handler that nacked would have its retry skipped as a duplicate.
    throw new ConfigError(
      [{ field: `${where} options.idempotency`, message: "works with ack: 'auto' only (the id is recorded when the handler returns); drop ack: 'manual'" }],
      { adapter: runtime.adapter },
    )
  }
  const concurrency = options.concurrency ?? 1
  return {
    concurrency,
    prefetch: Math.max(concurrency, options.prefetch ?? concurrency),
    ack: options.ack ?? 'auto',
    leaseMs: options.leaseMs,
    onError: options.onError ?? ((error) => runtime.logger.error(`${where}: ${error.message}`, { error })),
    idempotency: options.idempotency,
  }
}
