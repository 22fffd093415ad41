import type { IdempotencyOutcome, IdempotencyProcessOptions, IdempotencyStore, Message } from '@anymq/core'

/** What an inbox has seen so far in this process. */
export interface InboxCounts {
  /** Messages whose handler ran and committed. */
  processed: number
  /** Deliveries skipped because their message id was processed already. */
  duplicates: number
}

/** The outcome of {@link Inbox.process}. */
export type InboxOutcome<R> = IdempotencyOutcome<R>

/**
 * The idempotent consumer: runs a handler at most once per message id and consumer name, recording
 * the id in the same transaction as the handler's own writes. A redelivered message (at-least-once
 * delivery, a relay that published twice) finds its id recorded and is acknowledged without effect.
 * `Context` is what the handler writes with: a `pg` client in a transaction, the SQLite database in a
 * transaction, or a Redis `multi()`. An inbox is also core's `IdempotencyStore`:
 * `queue.consume(handler, { idempotency: { store: inbox, ttlMs } })` uses it without the context.
 */
export interface Inbox<Context> extends IdempotencyStore<Context> {
  /** Scopes the ids: two subscriptions that both process a message use two consumer names. */
  readonly consumer: string
  readonly counts: Readonly<InboxCounts>
  /** Wraps a handler for `queue.consume()` / `topic.subscribe()`; the message id is `message.id`. */
  handle<T>(handler: (message: Message<T>, context: Context) => unknown): (message: Message<T>) => Promise<void>
  /**
   * Runs `work` in a transaction that also records `messageId`, unless it is recorded already.
   * Throwing rolls both back (the message is retried by anymq's policy). With `ttlMs`, an id recorded
   * longer ago than that counts as not recorded.
   */
  process<R>(messageId: string, work: (context: Context) => R | Promise<R>, options?: IdempotencyProcessOptions): Promise<InboxOutcome<R>>
  /** Forgets ids processed more than `olderThanMs` ago; a duplicate arriving later than that would run again. */
  cleanup(olderThanMs: number): Promise<number>
}

export abstract class BaseInbox<Context> implements Inbox<Context> {
  readonly counts: InboxCounts = { processed: 0, duplicates: 0 }
  constructor(readonly consumer: string) {}

  handle<T>(handler: (message: Message<T>, context: Context) => unknown): (message: Message<T>) => Promise<void> {
    return async (message) => {
      await this.process(message.id, (context) => handler(message, context))
    }
  }

  async process<R>(messageId: string, work: (context: Context) => R | Promise<R>, options: IdempotencyProcessOptions = {}): Promise<InboxOutcome<R>> {
    const outcome = await this.run(messageId, work, options.ttlMs)
    if (outcome.duplicate) this.counts.duplicates++
    else this.counts.processed++
    return outcome
  }

  /** `ttlMs` undefined: a recorded id stays recorded until `cleanup` (or the store's own retention). */
  protected abstract run<R>(messageId: string, work: (context: Context) => R | Promise<R>, ttlMs: number | undefined): Promise<InboxOutcome<R>>
  abstract cleanup(olderThanMs: number): Promise<number>
}
