/**
 * The Redis keys behind queues, topics, subscriptions and reply inboxes. Names are validated by core
 * (letters, digits, `.`, `_`, `-`), so `:` separates the parts unambiguously.
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | `<prefix>:q:<queue>` | stream | the queue; consumer group `anymq` |
 * | `<prefix>:q:<queue>:delayed` | sorted set | delayed sends and retries, scored by due time |
 * | `<prefix>:q:<queue>:active` | string | ordered queues: the one consumer allowed to read (a lock with a lease) |
 * | `<prefix>:q:<queue>:waiting` | sorted set | priority queues: messages waiting, highest priority first, then in the order sent |
 * | `<prefix>:q:<queue>:waiting-seq` | string | priority queues: the counter that keeps one priority in the order sent |
 * | `<prefix>:q:<queue>:taken` | hash | priority queues: turn entry id → the message given to whoever holds that turn |
 * | `<prefix>:q:<queue>:dedupe:<dedupeId>` | string | a `dedupeId` sent to the queue within the window (set by `anymqOnce`, expiring with it) |
 * | `<prefix>:t:<topic>` | stream | the topic; one consumer group per subscription |
 * | `<prefix>:t:<topic>:s:<subscription>` | stream | retries and redrives of one subscription only; group `<subscription>` |
 * | `<prefix>:t:<topic>:s:<subscription>:delayed` | sorted set | that subscription's retries waiting for their backoff |
 * | `<prefix>:i:<address>` | stream | a requester's reply inbox, deleted on close, expiring when abandoned |
 * | `<prefix>:i:<address>` | channel | the same inbox's replies sent with PUBLISH while it listens (a channel is no key: same name, no clash) |
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Consumer group of every queue stream. */
  static readonly queueGroup = 'anymq'
  /** Consumer groups of ephemeral subscribers start with this; they are removed on close (or reaped when abandoned). */
  static readonly ephemeralGroupPrefix = 'anymq-ephemeral-'

  queue(name: string): string {
    return `${this.prefix}:q:${name}`
  }

  queueDelayed(name: string): string {
    return `${this.queue(name)}:delayed`
  }

  /** Priority queues; the scripts derive this name from the stream's (`<stream>:waiting`). */
  queueWaiting(name: string): string {
    return `${this.queue(name)}:waiting`
  }

  queueActive(name: string): string {
    return `${this.queue(name)}:active`
  }

  topic(name: string): string {
    return `${this.prefix}:t:${name}`
  }

  subscription(topic: string, group: string): string {
    return `${this.topic(topic)}:s:${group}`
  }

  subscriptionDelayed(topic: string, group: string): string {
    return `${this.subscription(topic, group)}:delayed`
  }

  inbox(address: string): string {
    return `${this.prefix}:i:${address}`
  }

  /** The pub/sub channel of a reply inbox: the inbox stream's name (channels and keys are separate namespaces). */
  inboxChannel(address: string): string {
    return this.inbox(address)
  }
}
