import {
  type Delivery,
  filterMatches,
  type Logger,
  retryCopy,
  settlesWithin,
  type TopicFilter,
  type TransportConsumeOptions,
  type TransportConsumer,
} from '@anymq/core/spi'
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { NatsAcker } from './nats-acker.js'
import { NatsDelayMover } from './nats-delay-mover.js'
import { connectionError, PullStatusError, PullUnansweredError } from './nats-errors.js'
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
  /** Creates this consumer (and its stream) again when the server no longer has it; whether it had to. */
  recreateConsumer: () => Promise<boolean>
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
  /** On an `ordered` queue: moves its waiting messages in once due. */
  private mover: NatsDelayMover | undefined
  private readonly acker = new NatsAcker()
  private shortenedRetryLogged = false

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
    if (this.target.delays !== undefined) {
      this.mover = new NatsDelayMover({ connection, client, fetchExpiresMs, onError: this.options.onError }, this.target.delays, this.target.retrySubject)
      this.mover.start()
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.slotFreed?.()
    // The pull under way is left to expire (fetchExpiresMs at most) rather than closed: closing it
    // dropped what the server had already sent for it, and those waited out AckWait (30 s) before
    // anyone else could have them. Meanwhile whatever arrives is handed back at once (see start).
    // A pull waits on a flush, which a server that took the connection and stopped answering never
    // completes: past its expiry and a grace the loop is left, and ends when the connection closes.
    const waitMs = this.context.fetchExpiresMs + stopGraceMs
    const stopping = Promise.all([this.loop, this.mover?.stop()])
    if (await settlesWithin(stopping, waitMs)) await stopping
    else {
      this.context.logger.warn(
        `stopping the consumer of '${this.target.stream}': the NATS server did not answer within ${waitMs} ms; its pull is left to the closing connection`,
      )
    }
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
        if (isConsumerMissing(error) && !this.stopped) await this.recreate()
      }
    }
  }

  /**
   * A topic stream drops a message once it is `topicMaxAgeMs` old: a retry copy waiting longer would
   * be gone before it is due, neither retried nor dead-lettered. It waits as long as the stream keeps it.
   */
  private fitRetryDelay<T extends { delayMs: number }>(options: T): T {
    const longest = this.target.longestRetryDelayMs
    if (longest === undefined || options.delayMs <= longest) return options
    if (!this.shortenedRetryLogged) {
      this.shortenedRetryLogged = true
      this.context.logger.warn(
        `[anymq] [nats] a retry on '${this.target.stream}' waits ${longest} ms instead of ${options.delayMs} ms: the topic stream keeps messages for ?topicMaxAgeMs only`,
      )
    }
    return { ...options, delayMs: longest }
  }

  /**
   * The consumer went away under a running instance (its stream deleted by another process, or a
   * `?storage=memory` stream lost in a server restart): without it every pull would fail for good.
   * A failure here is left to the next pull, which fails the same way and comes back.
   */
  private async recreate(): Promise<void> {
    try {
      // What was asked of the consumer that went away will never come: it holds no slot of the new one.
      if (await this.context.recreateConsumer()) this.puller?.forgetGivenUp()
    } catch {
      // Reported by the loop as the next pull's failure.
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
        const copy = retryCopy(message, this.fitRetryDelay(options))
        const { retrySubject, delays } = this.target
        await this.context.publisher.publishToSubject(copy.delayMs > 0 && delays !== undefined ? delays.subject : retrySubject, [copy])
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

/**
 * A pull that no consumer served: nobody answered it (`503`, or silence through several expiries,
 * which is what a request to a consumer the server no longer has gets). Re-creating leaves a consumer
 * that exists as it is. Not a `409 Consumer Deleted`, which also ends the pull under way when
 * `purge()` re-creates a subscription's consumer.
 */
function isConsumerMissing(error: unknown): boolean {
  return (error instanceof PullStatusError && error.code === 503) || error instanceof PullUnansweredError
}

/** How long past a pull's expiry a stop waits for the pull loop. */
const stopGraceMs = 4_000
