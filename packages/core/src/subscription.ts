import type { ClaimCheck } from './claim-check.js'
import type { Codec } from './codec.js'
import { resolveConsumeOptions } from './consume-options.js'
import { ConsumerEngine, type Handler } from './consumer-engine.js'
import { watchConsumerLag } from './consumer-lag-watch.js'
import { AbortedError, AnymqError, ClosedError } from './errors.js'
import type { IdempotencyOptions } from './idempotency-store.js'
import type { OptionCheck } from './options-validation.js'
import { createRetryPolicy, type RetryPolicy } from './retry-policy.js'
import type { Runtime } from './runtime.js'
import type { StandardSchemaV1 } from './schema.js'
import type { Source } from './spi/transport.js'

/** Options for `queue.consume()` and `topic.subscribe()`. */
export interface ConsumeOptions {
  /** Handlers running at once. Messages of one key still run one at a time. Default 1. */
  concurrency?: number
  /** Deliveries held unsettled at once, at least `concurrency`. Default: `concurrency`. */
  prefetch?: number
  /** `auto` (default): returning acks, throwing retries. `manual`: call `message.ack()` / `nack()`. */
  ack?: 'auto' | 'manual'
  /** Lease (visibility timeout): a delivery unsettled this long goes to another consumer. Adapters with `leaseExpiry`. */
  leaseMs?: number
  /** Aborting it closes the subscription gracefully. Its listener is removed when the subscription closes. */
  signal?: AbortSignal
  /** Errors that belong to no handler call (a lost connection being retried, a start that cannot succeed). Default: logged. */
  onError?: (error: Error) => void
  /**
   * The idempotent consumer: a message whose id `store` has processed already is acked without
   * running the handler (counted in `counts.duplicates`). The id is recorded only after the handler
   * succeeded, then the message is acked. Crash windows: a crash after the handler's effects but
   * before the store recorded the id runs the handler again on redelivery (effects outside the
   * store's transaction are at-least-once); a crash after the record but before the ack redelivers a
   * message that is then skipped as a duplicate. Refused with `ack: 'manual'` (ConfigError).
   */
  idempotency?: IdempotencyOptions
}

/** A running consumer. */
export interface Subscription {
  /**
   * Resolves once the consumer is attached and sees every message published from then on.
   *
   * While starting fails with a retryable error (broker unreachable or busy, a Kafka topic leader not
   * elected yet) the subscription keeps trying, with exponential backoff up to 30 s, and logs each
   * failure as a warning; `ready` stays pending meanwhile. It rejects with the error at once when the
   * failure is not retryable (bad configuration, unsupported feature), with `ClosedError` when the
   * subscription or its connection is closed before it attached, and with `AbortedError` when its
   * signal had already fired. A rejection is also reported to `onError`, so it needs no handler.
   */
  readonly ready: Promise<void>
  /** Messages received, acked, retried and dead-lettered so far by this subscription. */
  readonly counts: Readonly<{
    received: number
    acked: number
    retried: number
    deadLettered: number
    /** Deliveries skipped by `idempotency` because their id was processed already. */
    duplicates: number
    /** Deliveries dropped unhandled because their `ttlMs` had passed. */
    expired: number
  }>
  /**
   * Stops fetching (or trying to start), lets handlers already running finish and settle their
   * messages, hands back what was fetched but not started, and detaches. Idempotent; resolves when
   * all of that is done.
   */
  close(): Promise<void>
}

/** What a consumer reads and how it treats what it reads: the part that differs between queue, topic and responder. */
export interface ConsumerDefinition<T> {
  source: Source
  /** Written into dead letters so redrive knows where they came from: `orders`, `events/billing`. */
  label: string
  /** Names the call in option errors and logs: `queue('orders').consume`. */
  where: string
  codec: Codec<unknown>
  schema: StandardSchemaV1<unknown, T> | undefined
  retry: RetryPolicy
  deadLetter: string | false
  /** Set when the queue offloads large bodies: fetched before decoding, deleted after the ack. */
  claimCheck?: ClaimCheck
  /** Checks of options that only this kind of consumer takes (a subscription's filter…). */
  extraChecks?: Record<string, OptionCheck>
}

/** Backoff between attempts to start a consumer whose start failed with a retryable error. */
const restartPolicy = createRetryPolicy({ maxAttempts: Number.MAX_SAFE_INTEGER, backoff: { type: 'exponential', initialMs: 250, maxMs: 30_000 } })

/**
 * Validates the consume options, assembles the consumer settings once for queues, topics and
 * responders, and starts the consumer (see {@link Subscription.ready} for how a failed start is
 * retried). `onClose` runs when closing begins, before handlers drain.
 */
export function startSubscription<T>(
  runtime: Runtime,
  definition: ConsumerDefinition<T>,
  handler: Handler<T>,
  options: ConsumeOptions,
  onClose?: () => void,
): Subscription {
  runtime.assertOpen()
  const resolved = resolveConsumeOptions(runtime, handler as Handler<never>, options, definition.where, definition.extraChecks)
  const engine = new ConsumerEngine<T>({
    transport: runtime.transport,
    adapter: runtime.adapter,
    capabilities: runtime.capabilities,
    logger: runtime.logger,
    source: definition.source,
    sourceLabel: definition.label,
    codec: definition.codec,
    schema: definition.schema,
    retry: definition.retry,
    deadLetter: definition.deadLetter,
    claimCheck: definition.claimCheck,
    handler,
    telemetry: runtime.telemetry,
    cloudEvents: runtime.cloudEventsHeaders,
    ...resolved,
  })
  const signal = options.signal
  // Wakes a start that is waiting to try again, when the subscription closes.
  const closed = new AbortController()
  let closing: Promise<void> | undefined
  let stopLag: (() => void) | undefined
  const onAbort = () => void subscription.close()
  const subscription: Subscription = {
    ready: Promise.resolve(),
    counts: engine.counts,
    close: () => {
      closing ??= (async () => {
        closed.abort()
        signal?.removeEventListener('abort', onAbort)
        onClose?.()
        stopLag?.()
        try {
          await engine.close()
        } finally {
          // Tracked until closed, so that `mq.close()` waits for a close already under way.
          runtime.untrack(subscription)
        }
      })()
      return closing
    },
  }
  runtime.track(subscription)
  const ready = signal?.aborted
    ? Promise.reject(new AbortedError(`${definition.where}`, { adapter: runtime.adapter }))
    : startWithRetries(runtime, engine, definition.where, closed.signal)
  ready.catch((error: Error) => {
    void subscription.close()
    // Closed, or stopped by the caller's own signal: nothing went wrong.
    if (!(error instanceof ClosedError) && !(error instanceof AbortedError && signal?.aborted)) resolved.onError(error)
  })
  ;(subscription as { ready: Promise<void> }).ready = ready
  ready.then(
    () => {
      if (closing === undefined) stopLag = watchConsumerLag(runtime, definition.source)
    },
    () => {},
  )
  signal?.addEventListener('abort', onAbort, { once: true })
  return subscription
}

async function startWithRetries(runtime: Runtime, engine: { start(): Promise<void> }, where: string, closed: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (closed.aborted) throw new ClosedError(where, { adapter: runtime.adapter })
    try {
      await engine.start()
      return
    } catch (error) {
      if (!(AnymqError.isInstance(error) && error.isRetryable) || closed.aborted) throw error
      const waitMs = restartPolicy.delayAfter(attempt)
      runtime.logger.warn(`${where}: could not start (attempt ${attempt}): ${error.message}; trying again in ${waitMs} ms`, { error })
      await pause(waitMs, closed)
    }
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts; the timer and listener go either way. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
