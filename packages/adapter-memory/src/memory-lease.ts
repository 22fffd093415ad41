import type { Delivery, IncomingMessage } from '@anymq/core/spi'
import type { Linked } from './lease-list.js'
import type { MemoryConsumer, StoredMessage } from './memory-queue.js'
import { deliveredMessage } from './stored-message.js'

/** What a lease settles against: its queue. */
export interface LeaseOwner {
  readonly name: string
  /** Ends the lease if it is still held and runs `then` with its message; a late settle does nothing. */
  settle(lease: MemoryLease, then: Settled | undefined, delayMs: number, headers: Record<string, string> | undefined): void
  /** Moves the lease's deadline `ms` from now, if it is still held. */
  extend(lease: MemoryLease, ms: number): void
}

/** What happens to a settled lease's message: gone (ack, `undefined`), back at the front (release), or scheduled again (retry). */
export type Settled = 'release' | 'retry'

const done: Promise<void> = Promise.resolve()

/**
 * One delivery out on lease to one consumer: the {@link Delivery} core settles, and the broker's record
 * of it, in one object with its methods on the prototype (no closures per delivery). The message is a
 * private copy, so a handler that mutates its bytes or headers cannot change what a retry, a release or
 * another consumer gets; its body is the stored bytes themselves only when core declared that it just
 * reads them (`bodiesReadOnly`: the bytes never reach a handler).
 */
export class MemoryLease implements Delivery, Linked<MemoryLease> {
  readonly message: IncomingMessage
  readonly raw: { queue: string; token: number }
  /** Lease expiry, when the consumer asked for `leaseMs`. */
  timer: NodeJS.Timeout | undefined = undefined
  /** Its place in its queue's list of held leases (`LeaseList`). */
  previous: MemoryLease | undefined = undefined
  next: MemoryLease | undefined = undefined
  listed = false
  /** The consumer's slot was given back: it is, on the first settlement, never twice. */
  private handedBack = false

  constructor(
    private readonly owner: LeaseOwner,
    readonly token: number,
    readonly stored: StoredMessage,
    readonly consumer: MemoryConsumer,
  ) {
    this.message = deliveredMessage(stored.message, consumer.bodiesReadOnly)
    this.raw = { queue: owner.name, token }
  }

  ack(): Promise<void> {
    this.settle(undefined, 0, undefined)
    return done
  }

  /** Settling is synchronous here: core frees the handler's slot in the same turn (see `Delivery.ackNow`). */
  ackNow(): boolean {
    this.settle(undefined, 0, undefined)
    return true
  }

  retry(options: { delayMs: number; headers: Record<string, string> }): Promise<void> {
    this.settle('retry', options.delayMs, options.headers)
    return done
  }

  release(): Promise<void> {
    this.settle('release', 0, undefined)
    return done
  }

  extendLease(ms: number): Promise<void> {
    this.owner.extend(this, ms)
    return done
  }

  /**
   * The consumer's capacity is freed when it settles the delivery, not when the lease ends: a
   * consumer stuck in a handler past its lease must not be handed the same message again.
   */
  private settle(then: Settled | undefined, delayMs: number, headers: Record<string, string> | undefined): void {
    if (!this.handedBack) {
      this.handedBack = true
      this.consumer.inflight--
    }
    this.owner.settle(this, then, delayMs, headers)
  }
}
