import { type Delivery, type IncomingMessage, UnsupportedFeatureError } from '@anymq/core/spi'
import type { PartitionTracker } from './kafka-partition-tracker.js'

/** A record ready to hand out: the decoded message and where its offset is tracked. */
export interface Item {
  readonly message: IncomingMessage
  readonly raw: unknown
  /** `undefined` for in-memory retries of ephemeral groups: nothing to commit. */
  readonly tracker: PartitionTracker | undefined
  readonly offset: number
}

/** What a delivery asks of the consumer that handed it out. */
export interface DeliveryHost {
  /** The delivery is over; `settled`: its offset may be committed. */
  finish(item: Item, settled: boolean): void
  /** After `finish(item, false)`: hand it out again soon (as a new delivery, see {@link KafkaDelivery.again}). */
  giveBack(item: KafkaDelivery): void
  /** Schedules a retry copy durably; rejects with the delivery still unsettled. */
  retry(item: Item, options: { delayMs: number; headers: Record<string, string> }): Promise<void>
}

const settledAlready: Promise<void> = Promise.resolve()

/**
 * One record, from the read-ahead queue to its settling. A class rather than an object of closures:
 * a consumer makes one per message, and its methods live once on the prototype. It is its own queue
 * item (no second object per record). Settles once; later calls do nothing.
 */
export class KafkaDelivery implements Delivery, Item {
  private done = false

  constructor(
    private readonly host: DeliveryHost,
    readonly message: IncomingMessage,
    readonly raw: unknown,
    readonly tracker: PartitionTracker | undefined,
    readonly offset: number,
  ) {}

  /** The same record as a new, unsettled delivery (handed out again after a release). */
  again(): KafkaDelivery {
    return new KafkaDelivery(this.host, this.message, this.raw, this.tracker, this.offset)
  }

  ack(): Promise<void> {
    this.ackNow()
    return settledAlready
  }

  /**
   * Settling is synchronous (the offset is marked settled in memory, the commit follows on its own
   * timer): core frees the handler's slot in the same turn, with no promise and no turn per message.
   */
  ackNow(): boolean {
    if (!this.done) {
      this.done = true
      this.host.finish(this, true)
    }
    return true
  }

  async retry(options: { delayMs: number; headers: Record<string, string> }): Promise<void> {
    if (this.done) return
    // If the republish fails the delivery stays unsettled, its offset uncommitted (the SPI's contract).
    await this.host.retry(this, options)
    if (this.done) return
    this.done = true
    this.host.finish(this, true)
  }

  release(): Promise<void> {
    if (!this.done) {
      this.done = true
      this.host.finish(this, false)
      this.host.giveBack(this)
    }
    return settledAlready
  }

  extendLease(): Promise<void> {
    return Promise.reject(
      new UnsupportedFeatureError('kafka', 'extendLease()', 'Kafka has no per-message lease; a consumer keeps its partitions while it heartbeats'),
    )
  }
}
