import type { v1 } from '@google-cloud/pubsub'

/** Pub/Sub takes at most this many ack ids in one Acknowledge call (and 512 KiB per request). */
const maxIds = 1000

/**
 * Acknowledges in batches: acks asked for in the same turn of the event loop go out in one
 * Acknowledge call, and each caller's promise resolves once Pub/Sub confirmed it. With many handlers
 * finishing together this is one round trip instead of one per message.
 */
export class PubSubAcker {
  private pending: Array<{ ackId: string; resolve: () => void; reject: (error: unknown) => void }> = []
  private scheduled = false

  constructor(
    private readonly subscriber: v1.SubscriberClient,
    private readonly subscription: string,
  ) {}

  ack(ackId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ackId, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  private flush(): void {
    this.scheduled = false
    const batch = this.pending
    this.pending = []
    for (let start = 0; start < batch.length; start += maxIds) {
      const part = batch.slice(start, start + maxIds)
      this.subscriber.acknowledge({ subscription: this.subscription, ackIds: part.map((item) => item.ackId) }).then(
        () => {
          for (const item of part) item.resolve()
        },
        (error: unknown) => {
          for (const item of part) item.reject(error)
        },
      )
    }
  }
}
