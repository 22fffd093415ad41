import { SharedTurnBatch } from '@anymq/core/spi'
import type { Channel, ConsumeMessage } from 'amqplib'

/**
 * The acks of one consumer channel, sent together once per turn of the event loop: the acked
 * deliveries older than every delivery still unsettled go in one `basic.ack` with `multiple`, the
 * others one by one. amqplib encodes a frame per ack; at concurrency 16 a turn settles several
 * deliveries, so this is a fraction of the frames and of the work to build them.
 *
 * Why `multiple` is safe here: it acks every delivery of the channel up to its tag that the broker
 * still counts as unacked. Every delivery this consumer holds unsettled is in `unsettled`, and the ack
 * goes only up to a tag below the lowest of them; deliveries settled earlier are no longer unacked on
 * the broker (their frames went first, on the same channel). The tag acked with `multiple` is one of
 * this flush's own: RabbitMQ closes the channel for an ack whose tag it no longer holds.
 */
export class RabbitAckBatch {
  /** Delivery tags handed to the handler and neither acked nor released yet. */
  private readonly unsettled = new Set<number>()
  /** Every entry of a flush settles alike (see flush), so they share its one promise. */
  private readonly batch = new SharedTurnBatch<ConsumeMessage>((items) => this.flush(items))

  constructor(
    private readonly channel: Channel,
    private readonly isClosed: () => boolean,
  ) {}

  /** A delivery the consumer now holds. */
  delivered(raw: ConsumeMessage): void {
    this.unsettled.add(raw.fields.deliveryTag)
  }

  /** A delivery settled some other way (nacked back to the queue): no longer held. */
  released(raw: ConsumeMessage): void {
    this.unsettled.delete(raw.fields.deliveryTag)
  }

  /** Acks a held delivery with the others of this turn; resolves once its frame was handed to amqplib. */
  ack(raw: ConsumeMessage): Promise<void> {
    return this.batch.add(raw)
  }

  /** Resolves once every ack asked for so far was handed to amqplib (or dropped with a closed channel). */
  drained(): Promise<void> {
    return this.batch.drained()
  }

  private flush(items: ConsumeMessage[]): void {
    for (const item of items) this.unsettled.delete(item.fields.deliveryTag)
    if (!this.isClosed()) {
      let lowestHeld = Number.POSITIVE_INFINITY
      for (const tag of this.unsettled) if (tag < lowestHeld) lowestHeld = tag
      let through: ConsumeMessage | undefined
      for (const item of items) {
        const tag = item.fields.deliveryTag
        if (tag < lowestHeld && (through === undefined || tag > through.fields.deliveryTag)) through = item
      }
      try {
        if (through !== undefined) this.channel.ack(through, true)
        for (const item of items) if (item.fields.deliveryTag > lowestHeld) this.channel.ack(item)
      } catch {
        // The channel closed in between: the broker requeues what it held.
      }
    }
    // On a closed channel the broker has already requeued these deliveries: nothing to write or wait for.
  }
}
