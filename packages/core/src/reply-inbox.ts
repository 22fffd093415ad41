import { ClosedError } from './errors.js'
import type { Logger } from './logger.js'
import type { Delivery, Inbox, Transport } from './spi/transport.js'

/** Unsettled replies the inbox may hold at once; each is acked as soon as it arrives. */
const inboxPrefetch = 1000

/**
 * How long `close()` waits, in an outage, for an inbox still opening: its retries can last long
 * (RabbitMQ's 20 s). Outside an outage it waits for the opening to end (a Kafka inbox, a topic and a
 * group join, can take seconds), so that the inbox is removed before the transport closes.
 */
const openingWaitInOutageMs = 2_000
/** How often `close()` looks at the connection's state while it waits for an opening. */
const outageCheckMs = 100

/**
 * The one reply inbox of a connection, shared by all its requesters: opened on the first request
 * (concurrent first requests share the opening), matched to waiting requests by correlation id,
 * closed with the connection. One inbox per connection rather than per requester, because a broker
 * pays for every inbox (a Kafka topic and consumer group, an SQS queue long-polling): a requester
 * made per call must not cost a topic per call. An opening that fails is forgotten, so the next
 * request tries again.
 */
export class ReplyInbox {
  private opening: Promise<Inbox> | undefined
  private readonly waiting = new Map<string, (delivery: Delivery) => void>()
  private closed = false
  /** Whether the connection is in an outage (reconnecting); set by the connection. */
  inOutage: () => boolean = () => false

  constructor(
    private readonly transport: Transport,
    private readonly adapter: string,
    private readonly logger: Logger,
  ) {}

  /** The inbox's address (a request's `replyTo`); opens the inbox on first use. */
  async address(): Promise<string> {
    if (this.closed) throw new ClosedError('the reply inbox', { adapter: this.adapter })
    if (!this.opening) {
      const opening = this.transport.openInbox(
        {
          prefetch: inboxPrefetch,
          leaseMs: undefined,
          onError: (error) => this.logger.error(`reply inbox: ${error.message}`, { error }),
        },
        (delivery) => this.receive(delivery),
      )
      this.opening = opening
      opening.catch(() => {
        if (this.opening === opening) this.opening = undefined
      })
    }
    return (await this.opening).address
  }

  /** Routes the reply with `correlationId` to `onReply` until the returned function is called. */
  expect(correlationId: string, onReply: (delivery: Delivery) => void): () => void {
    this.waiting.set(correlationId, onReply)
    return () => {
      if (this.waiting.get(correlationId) === onReply) this.waiting.delete(correlationId)
    }
  }

  /** Requests waiting for a reply; for tests and diagnostics. */
  get waitingCount(): number {
    return this.waiting.size
  }

  /**
   * Removes the inbox from the broker, also one still opening. In an outage an opening is waited for
   * 2 s at most; if it opens later it is removed then, without holding up the caller. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const opening = this.opening
    if (!opening) return
    let timer: NodeJS.Timeout | undefined
    const gaveUp = new Promise<'gave up'>((resolve) => {
      let outageMs = 0
      const check = () => {
        outageMs = this.inOutage() ? outageMs + outageCheckMs : 0
        if (outageMs >= openingWaitInOutageMs) resolve('gave up')
        else timer = setTimeout(check, outageCheckMs)
      }
      timer = setTimeout(check, outageCheckMs)
    })
    const inbox = await Promise.race([opening.catch(() => undefined), gaveUp])
    clearTimeout(timer)
    if (inbox === 'gave up') {
      opening.then((late) => late.close()).catch(() => {})
      return
    }
    await inbox?.close()
  }

  private receive(delivery: Delivery): void {
    void delivery.ack().catch(() => {})
    const correlationId = delivery.message.correlationId
    const onReply = correlationId === undefined ? undefined : this.waiting.get(correlationId)
    if (onReply) onReply(delivery)
    else this.logger.debug('reply inbox: dropped a reply nobody waits for (late or duplicate)')
  }
}
