import { TurnBatch } from '@anymq/core/spi'
import type { v1 } from '@google-cloud/pubsub'

/** Pub/Sub takes at most this many ack ids in one Acknowledge call (and 512 KiB per request). */
const maxIds = 1000

/**
 * Acknowledges in batches: acks asked for in the same turn of the event loop go out in one
 * Acknowledge call, and each caller's promise resolves once Pub/Sub confirmed it. With many handlers
 * finishing together this is one round trip instead of one per message.
 */
export class PubSubAcker {
  private readonly batch = new TurnBatch<string>((entries) => {
    for (let start = 0; start < entries.length; start += maxIds) {
      const part = entries.slice(start, start + maxIds)
      this.subscriber.acknowledge({ subscription: this.subscription, ackIds: part.map((entry) => entry.item) }).then(
        () => {
          for (const entry of part) entry.resolve()
        },
        (error: unknown) => {
          for (const entry of part) entry.reject(error)
        },
      )
    }
  })

  constructor(
    private readonly subscriber: v1.SubscriberClient,
    private readonly subscription: string,
  ) {}

  ack(ackId: string): Promise<void> {
    return this.batch.add(ackId)
  }
}
