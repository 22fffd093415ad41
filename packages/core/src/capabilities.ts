/**
 * What an adapter's broker can do. One object per adapter drives three things: the conformance
 * cases that must pass, the capability table in the README, and the {@link UnsupportedFeatureError}
 * a user gets when asking for something the broker cannot do.
 */
export interface Capabilities {
  /** Delayed delivery (`send(body, { delayMs })`), and the longest delay the adapter accepts. */
  delay: false | { maxMs: number }
  /**
   * `key`: messages with the same key are delivered in order, one at a time, even across
   * consumer instances. `queue`: one queue is FIFO but keys are not isolated across instances.
   * `none`: no order is promised. Inside one process anymq always runs one key at a time.
   */
  ordering: 'key' | 'queue' | 'none'
  /**
   * `send(body, { priority })` with 0 (lowest) to 9: of the messages waiting in a queue, a higher
   * priority is delivered first. A message already handed to a consumer (prefetch) is not overtaken.
   */
  priority: boolean
  /**
   * Which queues honour `priority` when it is true. `any` (or absent): every queue. `declared`: only a
   * queue made with `maxPriority` (the broker fixes the levels when it creates the queue, as RabbitMQ's
   * `x-max-priority`); a priority sent to any other queue is refused with {@link UnsupportedFeatureError}.
   */
  priorityQueues?: 'any' | 'declared'
  /**
   * `send(body, { ttlMs })`: a message not delivered within `ttlMs` of becoming due is dropped, never
   * handled. `native`: the broker discards it (RabbitMQ's per-message expiration); `emulated`: anymq
   * acks and drops it when it arrives late (it occupies the broker until then); `false`: refused.
   */
  expiry: 'native' | 'emulated' | false
  /** `send(body, { dedupeId })` drops a repeat of the same id within a window. */
  dedupe: false | { windowMs: number }
  /** Accepted messages survive a broker restart. */
  persistence: boolean
  /** A new named subscription can start from the oldest retained message (`startFrom: 'earliest'`). */
  replay: boolean
  /** The broker itself moves poison messages to a dead-letter queue (anymq also records the failure). */
  nativeDeadLetter: boolean
  /** Largest message (body plus headers) the broker accepts, in bytes. */
  maxMessageBytes: number
  /** A message held by a consumer past `leaseMs` without being settled is redelivered. */
  leaseExpiry: boolean
  /** `message.extendLease(ms)` pushes the lease out while a handler runs long. */
  leaseExtension: boolean
  /** Topic subscriptions can filter: by subject pattern (`orders.*.created`) and/or by header equality. */
  topicFilters: { subject: boolean; headers: boolean }
  /**
   * Which admin calls the adapter serves; absent means none. An undeclared call rejects with
   * {@link UnsupportedFeatureError}.
   */
  admin?: AdminCapabilities
}

/** The admin calls of one adapter (see `Queue.stats()`, `purge()`, `delete()`, `Anymq.list()`, `DeadLetters.redriveOne()`). */
export interface AdminCapabilities {
  /** `stats()` of queues and subscriptions. */
  stats: boolean
  /** `purge()` of queues and subscriptions. */
  purge: boolean
  /** `delete()` of queues, topics and subscriptions. */
  delete: boolean
  /** `mq.list()` of what anymq made on the broker. */
  list: boolean
  /** Dead-letter operations on one message by id: `redriveOne`, `deleteOne`, `editAndRedrive`. */
  deadLetterById: boolean
}

/** Names of the admin calls, for tables and messages. */
export const adminCapabilityNames = ['stats', 'purge', 'delete', 'list', 'deadLetterById'] as const satisfies readonly (keyof AdminCapabilities)[]

/** Names of the capability flags, for tables and messages. */
export const capabilityNames = [
  'delay',
  'ordering',
  'priority',
  'expiry',
  'dedupe',
  'persistence',
  'replay',
  'nativeDeadLetter',
  'maxMessageBytes',
  'leaseExpiry',
  'leaseExtension',
  'topicFilters',
  'admin',
] as const satisfies readonly (keyof Capabilities)[]

/** Renders one capability value as a short table cell. */
export function describeCapability(capabilities: Capabilities, name: keyof Capabilities): string {
  const value = capabilities[name]
  switch (name) {
    case 'delay': {
      const delay = capabilities.delay
      return delay === false ? 'no' : `up to ${formatDuration(delay.maxMs)}`
    }
    case 'dedupe': {
      const dedupe = capabilities.dedupe
      return dedupe === false ? 'no' : `yes (${formatDuration(dedupe.windowMs)} window)`
    }
    case 'priority':
      return !capabilities.priority ? 'no' : capabilities.priorityQueues === 'declared' ? 'queues with maxPriority' : 'yes'
    case 'maxMessageBytes':
      return formatBytes(capabilities.maxMessageBytes)
    case 'topicFilters': {
      const filters = capabilities.topicFilters
      const kinds = [filters.subject ? 'subject' : '', filters.headers ? 'headers' : ''].filter(Boolean)
      return kinds.length === 0 ? 'no' : kinds.join(' + ')
    }
    case 'admin': {
      const admin = capabilities.admin
      const served = adminCapabilityNames.filter((call) => admin?.[call] === true)
      return served.length === 0 ? 'no' : served.length === adminCapabilityNames.length ? 'all' : served.join(', ')
    }
    default:
      return typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value)
  }
}

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'unlimited'
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`
  if (ms % 60_000 === 0) return `${ms / 60_000} min`
  if (ms % 1000 === 0) return `${ms / 1000} s`
  return `${ms} ms`
}

function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unlimited'
  if (bytes % 1_048_576 === 0) return `${bytes / 1_048_576} MiB`
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`
  return `${bytes} B`
}
