import { type Delivery, filterMatches, type Logger, retryCopy, type TopicFilter, type TransportConsumeOptions, type TransportConsumer } from '@anymq/core/spi'
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { NatsAcker } from './nats-acker.js'
import { connectionError } from './nats-errors.js'
import type { NatsPublisher } from './nats-publisher.js'
import { NatsPuller } from './nats-puller.js'
import type { ConsumerTarget, NatsTopology } from './nats-topology.js'
import { decodeMessage } from './nats-wire.js'

/** A message whose due time is at most this far away is handled now rather than put back again. */
const dueToleranceMs = 20

export interface NatsConsumerContext {
  connection: NatsConnection
  client: JetStreamClient
  topology: NatsTopology
  publisher: NatsPublisher
  logger: Logger
  fetchExpiresMs: number
}

/**
 * One pull consumer instance: pulls no more than `prefetch` minus the unsettled messages (through a
 * {@link NatsPuller}, whose one inbox drops nothing the server sends), hands each to core as a
 * {@link Delivery}, and puts back (NAK with a delay) a delayed message that is not yet due. A lost
 * connection makes the loop wait and pull again; the client reconnects by itself.
 */
export class NatsConsumer implements TransportConsumer {
  private readonly unsettled = new Set<JsMsg>()
  private stopped = false
  private closed = false
  private loop: Promise<void> | undefined
  private slotFreed: (() => void) | undefined
  private puller: NatsPuller | undefined
  private readonly acker = new NatsAcker()

  constructor(
    private readonly context: NatsConsumerContext,
    private readonly target: ConsumerTarget,
    private readonly filter: TopicFilter | undefined,
    private readonly ackWaitMs: number,
    private readonly options: TransportConsumeOptions,
    private readonly deliver: (delivery: Delivery) => void,
  ) {}

  async start(): Promise<void> {
    try {
      await this.context.client.consumers.get(this.target.stream, this.target.consumer)
    } catch (error) {
      throw connectionError(`opening consumer '${this.target.consumer}' of stream '${this.target.stream}'`, error)
    }
    const { connection, client, fetchExpiresMs } = this.context
    this.puller = new NatsPuller(connection, client.apiPrefix, this.target.stream, this.target.consumer, fetchExpiresMs, (message) => {
      // Thrown from here it would reach the client's protocol parser; the message returns after AckWait.
      try {
        if (this.stopped) message.nak()
        else this.receive(message)
      } catch (error) {
        this.options.onError(connectionError(`receiving from '${this.target.stream}'`, error))
      }
    })
    // A given-up pull the server then ended frees its slots at once, not at the end of its owed time.
    this.puller.onOwedEnded = () => this.slotFreed?.()
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.slotFreed?.()
    // The pull under way is left to expire (fetchExpiresMs at most) rather than closed: closing it
    // dropped what the server had already sent for it, and those waited out AckWait (30 s) before
    // anyone else could have them. Meanwhile whatever arrives is handed back at once (see start).
    await this.loop
    this.puller?.close()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.stop()
    for (const message of this.unsettled) message.nak()
    this.unsettled.clear()
    if (this.target.ephemeral) await this.context.topology.deleteConsumer(this.target.stream, this.target.consumer).catch(() => {})
  }

  private async run(): Promise<void> {
    let failures = 0
    const puller = this.puller as NatsPuller
    while (!this.stopped) {
      const free = this.options.prefetch - this.unsettled.size - puller.owed()
      // Owing its slots to a request the server left unanswered, a consumer with nothing in hand would
      // stand still until the server ends it: one message asked for says whether it still holds it.
      const probe = free <= 0 && this.unsettled.size < this.options.prefetch && puller.mayProbe()
      if (free <= 0 && !probe) {
        await this.slotFreedOrOwedEnds(puller.owedUntil())
        continue
      }
      try {
        await (probe ? puller.probe() : puller.pull(free))
        failures = 0
      } catch (error) {
        if (this.stopped) break
        failures++
        if (failures === 1 || failures % 20 === 0) this.options.onError(connectionError(`fetching from '${this.target.stream}'`, error))
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** Math.min(failures, 5), 2000)))
      }
    }
  }

  /** Waits for a settled message, or until messages owed by a given-up pull request stop being owed. */
  private slotFreedOrOwedEnds(owedUntil: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = owedUntil === undefined ? undefined : setTimeout(resolve, Math.max(0, owedUntil - Date.now()))
      this.slotFreed = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  private receive(raw: JsMsg): void {
    const publishedAt = Math.floor(Number(raw.info.timestampNanos) / 1_000_000)
    // On a topic stream, a retry or redrive addressed to another subscription is not ours.
    if (this.target.ownSubject !== undefined && raw.subject.includes('.to.') && raw.subject !== this.target.ownSubject) {
      raw.ack()
      return
    }
    const { message, deliverAt } = decodeMessage(raw.data, raw.headers, publishedAt, 0)
    const now = Date.now()
    if (deliverAt !== undefined && deliverAt - now > dueToleranceMs) {
      raw.nak(deliverAt - now)
      return
    }
    // A delayed message was most likely put back once before it was due; that was not an attempt.
    const delayedOnce = deliverAt !== undefined && deliverAt - publishedAt > dueToleranceMs ? 1 : 0
    message.attempt += Math.max(0, raw.info.deliveryCount - 1 - delayedOnce)
    if (this.filter !== undefined && !filterMatches(this.filter, message.subject, message.headers)) {
      raw.ack()
      return
    }
    this.unsettled.add(raw)
    let settled = false
    let leaseTimer: NodeJS.Timeout | undefined
    const settle = () => {
      settled = true
      if (leaseTimer) clearInterval(leaseTimer)
      this.unsettled.delete(raw)
      const wake = this.slotFreed
      this.slotFreed = undefined
      wake?.()
    }
    const acknowledge = async (what: string) => {
      try {
        await this.acker.ack(raw)
      } catch (error) {
        throw connectionError(`${what} of message '${message.id}'`, error)
      } finally {
        settle()
      }
    }
    this.deliver({
      message,
      raw,
      ack: () => acknowledge('acknowledging'),
      retry: async (options) => {
        // The copy is stored before the original is acknowledged: a crash in between duplicates, never loses.
        // When the copy is refused core releases the original, so it is not settled here.
        await this.context.publisher.publishToSubject(this.target.retrySubject, [retryCopy(message, options)])
        await acknowledge('acknowledging the retried original')
      },
      release: async () => {
        if (settled) return
        raw.nak()
        settle()
      },
      extendLease: async (ms) => {
        if (settled) return
        raw.working()
        // WPI resets the lease to AckWait; a longer extension repeats it until `ms` has passed.
        if (leaseTimer) clearInterval(leaseTimer)
        if (ms > this.ackWaitMs) {
          const until = Date.now() + ms
          leaseTimer = setInterval(
            () => {
              if (settled || Date.now() + this.ackWaitMs >= until) {
                clearInterval(leaseTimer)
                if (!settled) raw.working()
                return
              }
              raw.working()
            },
            Math.max(50, Math.floor(this.ackWaitMs / 2)),
          )
          leaseTimer.unref()
        }
      },
    })
  }
}
