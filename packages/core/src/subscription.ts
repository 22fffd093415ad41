import { ConsumerEngine, type EngineSettings } from './consumer-engine.js'
import { AbortedError } from './errors.js'
import type { Runtime } from './runtime.js'

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
  /** Aborting it closes the subscription gracefully. */
  signal?: AbortSignal
  /** Errors that belong to no handler call (a lost connection being retried). Default: logged. */
  onError?: (error: Error) => void
}

/** A running consumer. */
export interface Subscription {
  /** Resolves once the consumer is attached and sees every message published from then on. */
  readonly ready: Promise<void>
  /** Messages received, acked, retried and dead-lettered so far by this subscription. */
  readonly counts: Readonly<{
    received: number
    acked: number
    retried: number
    deadLettered: number
  }>
  /**
   * Stops fetching, lets handlers already running finish and settle their messages, hands back what
   * was fetched but not started, and detaches. Idempotent; resolves when all of that is done.
   */
  close(): Promise<void>
}

export function startSubscription<T>(runtime: Runtime, settings: EngineSettings<T>, signal: AbortSignal | undefined): Subscription {
  const engine = new ConsumerEngine<T>(settings)
  const subscription: Subscription = {
    ready: Promise.resolve(),
    counts: engine.counts,
    close: async () => {
      runtime.untrack(subscription)
      await engine.close()
    },
  }
  runtime.track(subscription)
  const ready = signal?.aborted ? Promise.reject(new AbortedError('consume', { adapter: runtime.adapter })) : engine.start()
  ready.catch((error: Error) => {
    runtime.untrack(subscription)
    settings.onError(error)
  })
  ;(subscription as { ready: Promise<void> }).ready = ready
  signal?.addEventListener('abort', () => void subscription.close(), {
    once: true,
  })
  return subscription
}
