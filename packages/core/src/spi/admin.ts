import type { IncomingMessage, QueueSpec, Source } from './transport.js'

/** What an admin call acts on: a queue, one subscription of a topic, or a whole topic. */
export type AdminTarget = Source | { kind: 'topic'; topic: string }

/** Counts as the broker reports them for one queue or subscription; `undefined` where the broker does not tell. */
export interface BrokerStats {
  /**
   * Messages waiting to be delivered (delayed ones included where the broker cannot tell them apart).
   * Where the broker cannot tell delivered from waiting (`inFlight` undefined, as a log's consumer lag),
   * unsettled messages are counted here too.
   */
  ready: number
  /** Delivered to a consumer and not yet settled. */
  inFlight: number | undefined
  /** Consumers attached right now. */
  consumers: number | undefined
  /** Age of the oldest waiting message, in milliseconds. */
  oldestAgeMs: number | undefined
}

/** One queue, topic or subscription found by {@link TransportAdmin.list}, in anymq's names (not the broker's). */
export interface ListedDestination {
  kind: 'queue' | 'topic' | 'subscription'
  /** The queue or topic name; for a subscription, the subscription name. */
  name: string
  /** For a subscription: its topic. */
  topic?: string
}

/**
 * Optional admin operations of a transport. Core calls an operation only when the adapter declares it
 * in `capabilities.admin`; a declared operation must be implemented.
 */
export interface TransportAdmin {
  /**
   * Why the broker cannot serve an admin call the adapter leaves undeclared, and what to do instead:
   * core's `UnsupportedFeatureError` for that call says this rather than a generic hint.
   */
  readonly refusals?: Readonly<Partial<Record<'stats' | 'purge' | 'delete' | 'list' | 'deadLetterById', string>>>
  /** Counts of a queue or subscription; zeros when it does not exist yet (handles are lazy). */
  stats(source: Source): Promise<BrokerStats>
  /** Removes every waiting message; messages held by consumers may still be settled. */
  purge(source: Source): Promise<void>
  /** Deletes the queue, subscription or topic (with its subscriptions) and anymq's private structures for it (retry queues, delay sets). Idempotent. */
  remove(target: AdminTarget): Promise<void>
  /** The queues, topics and subscriptions anymq made on this broker whose names start with `prefix`. */
  list(prefix: string): Promise<ListedDestination[]>
  /**
   * Finds the waiting message with this id in `queue` without taking any other for good. When found,
   * awaits `handle(message)` and removes it only after `handle` resolved (when `handle` rejects, the
   * message stays). Resolves `true` when it was found and removed.
   */
  takeById(queue: QueueSpec, id: string, handle: (message: IncomingMessage) => Promise<void>): Promise<boolean>
}
