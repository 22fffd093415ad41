import type { Delivery, Inbox } from '@anymq/core/spi'
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import { decodeMessage } from './nats-wire.js'

const settled = async () => {}

/**
 * A reply inbox: a core NATS subscription to a unique `_INBOX.…` subject of this connection. Replies
 * are not stored (a requester that is gone has nobody to reply to), so settling them is a no-op.
 */
export class NatsInbox implements Inbox {
  readonly address: string
  private readonly subscription: Subscription

  constructor(connection: NatsConnection, deliver: (delivery: Delivery) => void) {
    this.address = createInbox()
    this.subscription = connection.subscribe(this.address, {
      callback: (error, raw) => {
        if (error) return
        const { message } = decodeMessage(raw.data, raw.headers, Date.now(), 0)
        deliver({ message, raw, ack: settled, retry: settled, release: settled, extendLease: settled })
      },
    })
  }

  async close(): Promise<void> {
    if (!this.subscription.isClosed()) this.subscription.unsubscribe()
  }
}
