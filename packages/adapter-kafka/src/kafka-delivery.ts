import { type Delivery, type IncomingMessage, UnsupportedFeatureError } from '@anymq/core/spi'
import type { PartitionTracker } from './kafka-partition-tracker.js'

/** A record ready to hand out: the decoded message and where its offset is tracked. */
export interface Item {
  message: IncomingMessage
  raw: unknown
  /** `undefined` for in-memory retries of ephemeral groups: nothing to commit. */
  tracker: PartitionTracker | undefined
  offset: number
}

/** What a delivery asks of the consumer that handed it out. */
export interface DeliveryHost {
  /** The delivery is over; `settled`: its offset may be committed. */
  finish(item: Item, settled: boolean): void
  /** After `finish(item, false)`: hand it out again soon. */
  giveBack(item: Item): void
  /** Schedules a retry copy durably; rejects with the delivery still unsettled. */
  retry(item: Item, options: { delayMs: number; headers: Record<string, string> }): Promise<void>
}

const settledAlready: Promise<void> = Promise.resolve()

/**
 * One handed-out record. A class rather than an object of closures: a consumer makes one per
 * message, and its methods live once on the prototype. Settles once; later calls do nothing.
 */
export class KafkaDelivery implements Delivery {
  private done = false

  constructor(
    private readonly host: DeliveryHost,
    private readonly item: Item,
  ) {}

  get message(): IncomingMessage {
    return this.item.message
  }

  get raw(): unknown {
    return this.item.raw
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
      this.host.finish(this.item, true)
    }
    return true
  }

  async retry(options: { delayMs: number; headers: Record<string, string> }): Promise<void> {
    if (this.done) return
    // If the republish fails the delivery stays unsettled, its offset uncommitted (the SPI's contract).
    await this.host.retry(this.item, options)
    if (this.done) return
    this.done = true
    this.host.finish(this.item, true)
  }

  release(): Promise<void> {
    if (!this.done) {
      this.done = true
      this.host.finish(this.item, false)
      this.host.giveBack(this.item)
    }
    return settledAlready
  }

  extendLease(): Promise<void> {
    return Promise.reject(
      new UnsupportedFeatureError('kafka', 'extendLease()', 'Kafka has no per-message lease; a consumer keeps its partitions while it heartbeats'),
    )
  }
}
