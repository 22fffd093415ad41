/**
 * A received message. `body` is decoded and validated. In the default (auto) mode returning from the
 * handler acks and throwing applies the retry policy; `ack()`, `nack()` and `release()` settle
 * explicitly and are idempotent: the first settlement wins, later calls (and the auto ack) do nothing.
 */
export interface Message<T> {
  readonly id: string
  readonly body: T
  /**
   * The sender's headers (anymq's reserved `x-anymq-*` headers are not shown); an object of this
   * message's own.
   */
  readonly headers: Readonly<Record<string, string>>
  readonly key: string | undefined
  /** 1 on the first delivery. */
  readonly attempt: number
  /** When the message was first sent. */
  readonly timestamp: Date
  readonly correlationId: string | undefined
  readonly replyTo: string | undefined
  readonly subject: string | undefined
  /** The broker client's own message object: an escape hatch, its shape depends on the adapter. */
  readonly raw: unknown
  /** Acknowledge: the message is done. */
  ack(): Promise<void>
  /** Redeliver after `delayMs` as a failed attempt (dead-lettered when attempts are used up). */
  nack(options?: { delayMs?: number; reason?: string }): Promise<void>
  /**
   * Give it back untouched, as work this consumer will not do: it is delivered again soon, to this or
   * another consumer, with no failure recorded, and never dead-lettered for it. Where the broker
   * itself counts deliveries (a redelivered flag, a receive count), the redelivery's `attempt` may
   * still be one higher.
   */
  release(): Promise<void>
  /** Keep the message leased for `ms` more; only on adapters with `leaseExtension`. */
  extendLease(ms: number): Promise<void>
}

/** A dead-lettered message with the failure anymq recorded. */
export interface DeadLetter<T> {
  readonly id: string
  /** Decoded body, or `undefined` when it cannot be decoded (see `rawBody`). */
  readonly body: T | undefined
  readonly rawBody: Uint8Array
  readonly headers: Readonly<Record<string, string>>
  readonly key: string | undefined
  /**
   * The last failure: `name` is the `code` of anymq's own errors (`'ERR_VALIDATION'` for a body that
   * failed its schema, `'ERR_SERIALIZATION'` for one that could not be decoded), otherwise the thrown
   * error's `name` (`'Error'`, `'TypeError'`, a custom class's name); `message` is cut at 1,024 characters.
   */
  readonly error: { name: string; message: string }
  readonly attempts: number
  readonly firstFailureAt: Date | undefined
  readonly lastFailureAt: Date | undefined
  /** The queue (or `topic/subscription`) it was dead-lettered from. */
  readonly source: string | undefined
  readonly timestamp: Date
}
