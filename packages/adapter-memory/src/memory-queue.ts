import type { IncomingMessage } from '@anymq/core/spi'
import { Deque } from './deque.js'
import { LeaseList } from './lease-list.js'
import { type LeaseOwner, MemoryLease, type Settled } from './memory-lease.js'
import { copyMessage, redelivery, type StoredMessage } from './stored-message.js'
import type { DueTimer, TimerSet } from './timer-set.js'

// Taken at load: the next turn is not time, so a fake clock installed later (`vi.useFakeTimers()` fakes
// `setImmediate`) must not hold a given-back message back, as it cannot hold a real broker's I/O.
const nextTurn = globalThis.setImmediate

export type { StoredMessage } from './stored-message.js'

export interface MemoryConsumer {
  prefetch: number
  leaseMs: number | undefined
  /** Core only reads this consumer's bodies (`TransportConsumeOptions.bodiesReadOnly`): deliveries carry the stored bytes, not a copy. */
  bodiesReadOnly: boolean
  deliver(delivery: MemoryLease): void
  inflight: number
}

const priorityLevels = 10
const dedupeWindowMs = 5 * 60_000

/**
 * One queue (or one topic subscription): ready messages by priority, delayed ones on timers, and
 * leased ones per consumer. A key with a message out on lease is not handed out again until that one
 * is settled, so per-key order holds across consumers as on Kafka partitions or SQS FIFO groups.
 */
export class MemoryQueue implements LeaseOwner {
  private readonly levels: Deque<StoredMessage>[] = []
  /** No level above this one holds a ready message: where {@link takeDeliverable} starts, not at the top of ten. */
  private highestLevel = -1
  /** Deliveries out on lease, in the order they were handed out. */
  private readonly leases = new LeaseList<MemoryLease>()
  /** Keys with a message out on lease (or given back and not deliverable yet), and that lease. */
  private readonly busyKeys = new Map<string, MemoryLease>()
  private readonly dedupe = new Map<string, number>()
  private consumers: MemoryConsumer[] = []
  private nextConsumer = 0
  private nextToken = 1
  private dispatching = false
  private dispatchAgain = false
  private readonly delayedTimers = new Set<DueTimer>()
  /**
   * Messages given back in this turn (released, or retried without delay) and the lease they came
   * from: in the queue at once, in their place, but handed out only from the next turn on. A broker
   * never delivers a released message inside the release (RabbitMQ's requeue, Kafka's seek and Redis's
   * pending list all come back later), and a consumer that releases what it is given (one closing while
   * its start is under way) would otherwise get it back at once, without end. A keyed one keeps its
   * key busy meanwhile, so the later messages of its key wait behind it.
   */
  private readonly returning = new Map<StoredMessage, MemoryLease>()
  /** Makes what was given back deliverable: one `setImmediate` per turn, not per message. */
  private readonly returned = (): void => {
    for (const lease of this.returning.values()) this.freeKey(lease)
    this.returning.clear()
    this.dispatch()
  }

  constructor(
    readonly name: string,
    private readonly timers: TimerSet,
  ) {}

  get depth(): number {
    let count = this.delayedTimers.size
    for (const level of this.levels) count += level?.length ?? 0
    return count + this.leases.size
  }

  /** Stores a message; `false` when it repeats a `dedupeId` seen within the window (dropped, as SQS does). */
  enqueue(stored: StoredMessage, delayMs: number, dedupeId?: string): boolean {
    if (dedupeId !== undefined) {
      const now = Date.now()
      const seenUntil = this.dedupe.get(dedupeId)
      if (seenUntil !== undefined && seenUntil > now) return false
      this.dedupe.set(dedupeId, now + dedupeWindowMs)
      if (this.dedupe.size > 10_000) for (const [id, until] of this.dedupe) if (until <= now) this.dedupe.delete(id)
    }
    if (delayMs > 0) {
      const timer = this.timers.addDue(() => {
        this.delayedTimers.delete(timer)
        this.makeReady(stored, false)
      }, delayMs)
      this.delayedTimers.add(timer)
    } else this.makeReady(stored, false)
    return true
  }

  addConsumer(consumer: MemoryConsumer): void {
    this.consumers.push(consumer)
    this.dispatch()
  }

  /**
   * Detaches a consumer. What it still holds goes back: at once after a graceful close or a crash
   * without leases (as RabbitMQ does on channel close), or when its lease expires (as SQS does).
   */
  removeConsumer(consumer: MemoryConsumer, crashed: boolean): void {
    // Handed out at once: the consumer that held them is gone, only others can get them.
    this.consumers = this.consumers.filter((candidate) => candidate !== consumer)
    const held = this.leases.toArray().filter((lease) => lease.consumer === consumer)
    for (const lease of held.reverse()) {
      if (crashed && lease.timer !== undefined) continue
      this.endLease(lease)
      this.makeReady(redelivery(lease.stored), true)
    }
    this.dispatch()
  }

  peek(limit: number): IncomingMessage[] {
    const result: IncomingMessage[] = []
    for (let level = priorityLevels - 1; level >= 0 && result.length < limit; level--) {
      for (const stored of this.levels[level] ?? []) {
        if (result.length >= limit) break
        result.push(copyMessage(stored.message))
      }
    }
    return result
  }

  /** Takes up to `limit` ready messages out for good (for moving them elsewhere). */
  take(limit: number): StoredMessage[] {
    const taken: StoredMessage[] = []
    for (let level = priorityLevels - 1; level >= 0; level--) {
      const deque = this.levels[level]
      while (deque && deque.length > 0 && taken.length < limit) taken.push(this.leaving(deque.shift() as StoredMessage))
    }
    return taken
  }

  /** Puts back messages taken by {@link take} that could not be moved, in their order, at the front. */
  putBack(stored: StoredMessage[]): void {
    for (const item of [...stored].reverse()) this.makeReady(item, true)
  }

  /** Counts for `stats()`: waiting (delayed included), leased, consumers, and the oldest waiting message's first-sent time. */
  stats(): { ready: number; inFlight: number; consumers: number; oldestTimestamp: number | undefined } {
    let ready = this.delayedTimers.size
    let oldestTimestamp: number | undefined
    for (const level of this.levels) {
      for (const stored of level ?? []) {
        ready++
        oldestTimestamp = Math.min(oldestTimestamp ?? stored.message.timestamp, stored.message.timestamp)
      }
    }
    return { ready, inFlight: this.leases.size, consumers: this.consumers.length, oldestTimestamp }
  }

  /** Drops every waiting message, delayed ones included; leased messages stay with their consumers. */
  purge(): void {
    for (const level of this.levels) while (level && level.length > 0) this.leaving(level.shift() as StoredMessage)
    for (const timer of this.delayedTimers) this.timers.clear(timer.timeout)
    this.delayedTimers.clear()
  }

  /** Whether a consumer is attached: a deleted queue with one is made again at once, as a broker's consumer declares its queue again. */
  get hasConsumers(): boolean {
    return this.consumers.length > 0
  }

  /** What `delete()` drops: every waiting message, delayed ones included, and the dedupe window; leased messages stay with their consumers. */
  clear(): void {
    this.purge()
    this.dedupe.clear()
  }

  /** Takes the waiting message with this id out (to be put back with {@link putBack} if it cannot go), or `undefined`. */
  takeById(id: string): StoredMessage | undefined {
    for (const level of this.levels) {
      if (!level) continue
      for (let index = 0; index < level.length; index++) {
        if ((level.at(index) as StoredMessage).message.id === id) return this.leaving(level.removeAt(index) as StoredMessage)
      }
    }
    return undefined
  }

  /** A waiting message taken out of the queue by an admin call: if it was on its way back, its key is free. */
  private leaving(stored: StoredMessage): StoredMessage {
    const lease = this.returning.get(stored)
    if (lease !== undefined) {
      this.returning.delete(stored)
      this.freeKey(lease)
    }
    return stored
  }

  private makeReady(stored: StoredMessage, front: boolean): void {
    this.putReady(stored, front)
    this.dispatch()
  }

  private putReady(stored: StoredMessage, front: boolean): void {
    const level = Math.min(priorityLevels - 1, Math.max(0, stored.priority))
    let deque = this.levels[level]
    if (!deque) {
      deque = new Deque<StoredMessage>()
      this.levels[level] = deque
    }
    if (front) deque.unshift(stored)
    else deque.push(stored)
    if (level > this.highestLevel) this.highestLevel = level
  }

  private dispatch(): void {
    if (this.dispatching) {
      this.dispatchAgain = true
      return
    }
    this.dispatching = true
    try {
      do {
        this.dispatchAgain = false
        while (this.consumers.length > 0) {
          const consumer = this.pickConsumer()
          if (!consumer) break
          const stored = this.takeDeliverable()
          if (!stored) break
          this.lease(consumer, stored)
        }
      } while (this.dispatchAgain)
    } finally {
      this.dispatching = false
    }
  }

  private pickConsumer(): MemoryConsumer | undefined {
    for (let i = 0; i < this.consumers.length; i++) {
      const index = (this.nextConsumer + i) % this.consumers.length
      const consumer = this.consumers[index] as MemoryConsumer
      if (consumer.inflight < consumer.prefetch) {
        this.nextConsumer = index + 1
        return consumer
      }
    }
    return undefined
  }

  private takeDeliverable(): StoredMessage | undefined {
    for (let level = this.highestLevel; level >= 0; level--) {
      const deque = this.levels[level]
      if (!deque || deque.length === 0) {
        // Nothing ready at this level or above (every level above was empty when the loop passed it).
        if (level === this.highestLevel) this.highestLevel = level - 1
        continue
      }
      for (let index = 0; index < deque.length; index++) {
        const stored = deque.at(index) as StoredMessage
        const key = stored.message.key
        // A keyed message given back this turn is skipped by its busy key, an unkeyed one by `returning`.
        if (key === undefined ? this.returning.size === 0 || !this.returning.has(stored) : !this.busyKeys.has(key)) return deque.removeAt(index)
      }
    }
    return undefined
  }

  private lease(consumer: MemoryConsumer, stored: StoredMessage): void {
    const lease = new MemoryLease(this, this.nextToken++, stored, consumer)
    const key = stored.message.key
    if (key !== undefined) this.busyKeys.set(key, lease)
    if (consumer.leaseMs !== undefined) lease.timer = this.timers.add(() => this.expire(lease), consumer.leaseMs)
    this.leases.add(lease)
    consumer.inflight++
    consumer.deliver(lease)
  }

  /** {@link LeaseOwner.settle}: ends a lease once; a late settle after it expired or was released does nothing. */
  settle(lease: MemoryLease, then: Settled | undefined, delayMs: number, headers: Record<string, string> | undefined): void {
    if (this.leases.has(lease)) {
      if (then === undefined) this.endLease(lease)
      else if (then === 'release') this.giveBack(lease, lease.stored, true)
      else if (delayMs > 0) {
        this.endLease(lease)
        this.enqueue(redelivery(lease.stored, headers), delayMs)
      } else this.giveBack(lease, redelivery(lease.stored, headers), false)
    }
    this.dispatch()
  }

  /** Ends the lease and puts `stored` in the queue (released: at the front; retried: at the back), deliverable from the next turn on ({@link returning}). */
  private giveBack(lease: MemoryLease, stored: StoredMessage, front: boolean): void {
    this.endLease(lease, true)
    if (this.returning.size === 0) nextTurn(this.returned)
    this.returning.set(stored, lease)
    this.putReady(stored, front)
  }

  /** {@link LeaseOwner.extend} */
  extend(lease: MemoryLease, ms: number): void {
    if (!this.leases.has(lease)) return
    this.timers.clear(lease.timer)
    lease.timer = this.timers.add(() => this.expire(lease), ms)
  }

  private expire(lease: MemoryLease): void {
    if (!this.leases.has(lease)) return
    lease.timer = undefined
    this.endLease(lease)
    this.makeReady(redelivery(lease.stored), true)
  }

  /** `keepKey`: its message was given back ({@link giveBack}); the key stays busy until the message is deliverable. */
  private endLease(lease: MemoryLease, keepKey = false): void {
    this.leases.delete(lease)
    this.timers.clear(lease.timer)
    if (!keepKey) this.freeKey(lease)
  }

  private freeKey(lease: MemoryLease): void {
    const key = lease.stored.message.key
    if (key !== undefined && this.busyKeys.get(key) === lease) this.busyKeys.delete(key)
  }
}
