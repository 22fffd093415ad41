import {
  CloseDeadline,
  type ConnectionStateTracker,
  type Delivery,
  filterMatches,
  type Logger,
  retryCopy,
  type TopicFilter,
  type TransportConsumeOptions,
  type TransportConsumer,
} from '@anymq/core/spi'
import type { v1 } from '@google-cloud/pubsub'
import { PubSubAcker } from './gcp-pubsub-acker.js'
import { codeOf, connectionError, grpcCode } from './gcp-pubsub-errors.js'
import type { PubSubPublisher } from './gcp-pubsub-publisher.js'
import { PubSubStream, streamAckDeadlineSeconds } from './gcp-pubsub-stream.js'
import type { ConsumerTarget, PubSubTopology } from './gcp-pubsub-topology.js'
import { PubSubWaitingMessages } from './gcp-pubsub-waiting.js'
import { decodeMessage, type PubSubWireMessage } from './gcp-pubsub-wire.js'

/** Pub/Sub's longest ack deadline, which is also the longest a delayed message can be put back for. */
export const maxDeadlineSeconds = 600
/** Longest wait of one Pull call on the real service (the emulator answers an empty pull after 0.5 s). */
const pullTimeoutMs = 10_000
const dueToleranceMs = 20
/** A waiting message is handed with the lease it has left when that is this close to a whole lease (a tenth, at most 1 s): one call fewer per message. */
const leaseToleranceMs = 1_000
/** Ack ids per `modifyAckDeadline` call, as the acker sends acknowledgements (gcp-pubsub-acker.ts). */
const maxAckIdsPerCall = 1_000
/**
 * Longest a stopped consumer waits for Pub/Sub to answer what its close needs (acks of handled
 * messages, the pull and stream ending, handing back held ones): a service that stops answering would
 * hold each for the client's 60 s call timeout and its retries, and `mq.close()` with it. A message
 * given up on is delivered again once its ack deadline passes (at-least-once).
 */
const closeWaitMs = 5_000

type DecodedMessage = ReturnType<typeof decodeMessage>['message']

interface ReceivedMessage {
  ackId?: string | null
  message?: PubSubWireMessage | null
  deliveryAttempt?: number | null
}

export interface PubSubConsumerContext {
  subscriber: v1.SubscriberClient
  topology: PubSubTopology
  publisher: PubSubPublisher
  maxPull: number
  /** Lease of a consumer given no `leaseMs`, in seconds: the subscription's ack deadline, which pulls get. */
  ackDeadlineSeconds: number
  /** Hears of pulls failing (the service or emulator unreachable) and of the next that works. */
  connectionState: ConnectionStateTracker
  /** Where a close that stopped waiting for Pub/Sub says so. */
  logger: Logger
  /** Creates this consumer's subscription (and its topic) again, once Pub/Sub says it is not found. */
  recreateSubscription: () => Promise<void>
}

/**
 * One consumer: a unary Pull loop that asks for no more than `prefetch` minus the messages it holds,
 * and, while pulls come back short of what they asked for, a StreamingPull stream ({@link PubSubStream}) that brings a
 * message as soon as it is published (a full Pull ends it: the stream takes slots
 * one by one as they free up, at pstest's pace of one message per 10 ms, and would starve the bulk
 * pulls of a backlog). It sets each message's ack deadline to the
 * lease, hands it to core as a {@link Delivery} (at most `prefetch` unsettled; what the stream
 * brings beyond that waits, in arrival order, kept alive by {@link PubSubWaitingMessages}), and puts a delayed message that is not yet due back
 * with `modifyAckDeadline` for the time that is left. The generated client's calls rather than the
 * high-level subscriber: its lease manager extends deadlines on its own, which would hide the lease
 * expiry anymq promises.
 */
export class PubSubConsumer implements TransportConsumer {
  /** Each handed message's ack id and when its lease runs out (ms since the epoch), as this process reckons it. */
  private readonly unsettled = new Map<string, number>()
  /** Received beyond `prefetch` (from the stream, or a pull that crossed it), kept alive and handed as slots free up. */
  private readonly waiting: PubSubWaitingMessages<DecodedMessage>
  private readonly stream: PubSubStream
  private stopped = false
  private closed = false
  private loop: Promise<void> | undefined
  private slotFreed: (() => void) | undefined
  private readonly acker: PubSubAcker
  private readonly closeDeadline: CloseDeadline

  constructor(
    private readonly context: PubSubConsumerContext,
    readonly target: ConsumerTarget,
    private readonly filter: TopicFilter | undefined,
    private readonly options: TransportConsumeOptions,
    private readonly deliver: (delivery: Delivery) => void,
  ) {
    this.acker = new PubSubAcker(context.subscriber, target.subscription)
    this.closeDeadline = new CloseDeadline(closeWaitMs, (what, ms) =>
      context.logger.warn(
        `pubsub consumer of ${target.subscription}: Pub/Sub did not answer ${what} within ${ms} ms of the close; not waiting longer (a message left unsettled is delivered again after its ack deadline)`,
      ),
    )
    this.waiting = new PubSubWaitingMessages({
      extensionSeconds: Math.max(this.leaseSeconds(), streamAckDeadlineSeconds),
      modifyAckDeadline: (ackIds, seconds) => this.modify(ackIds, seconds),
      onError: (error) => options.onError(connectionError('keeping waiting messages', error)),
    })
    this.stream = new PubSubStream(context.subscriber, { subscription: target.subscription, maxOutstandingMessages: options.prefetch }, (response) => {
      void this.received((response.receivedMessages ?? []) as ReceivedMessage[], 'stream')
    })
  }

  start(): void {
    this.loop = this.run()
    this.stream.open()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.closeDeadline.start()
    this.slotFreed?.()
    await this.closeDeadline.wait('ending its pull and stream', Promise.all([this.loop, this.stream.stop()]))
    const waiting = this.waiting.clear()
    if (waiting.length > 0) await this.closeDeadline.wait('handing back waiting messages', this.modify(waiting, 0)).catch(() => {})
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.stop()
    const ackIds = [...this.unsettled.keys()]
    this.unsettled.clear()
    if (ackIds.length > 0) await this.closeDeadline.wait('handing back held messages', this.modify(ackIds, 0)).catch(() => {})
    if (this.target.temporary) await this.closeDeadline.wait('removing its temporary subscription', this.context.topology.remove(this.target))
  }

  /** Stops without settling anything, as a crashed process would. */
  abandon(): void {
    this.stopped = true
    this.stream.abandon()
    this.waiting.clear()
    this.slotFreed?.()
  }

  private async run(): Promise<void> {
    let failures = 0
    while (!this.stopped) {
      const free = this.options.prefetch - this.unsettled.size - this.waiting.size
      // One Pull per freed slot would be a call per message under load: wait until half are free.
      if (free <= 0 || free < this.options.prefetch / 2) {
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve
        })
        continue
      }
      try {
        const asked = Math.min(free, this.context.maxPull)
        const [response] = await this.context.subscriber.pull({ subscription: this.target.subscription, maxMessages: asked }, { timeout: pullTimeoutMs })
        failures = 0
        this.context.connectionState.working()
        const received = (response.receivedMessages ?? []) as ReceivedMessage[]
        // A full pull is a backlog the pulls take in bulk; a short one (a trickle) leaves the stream the latency.
        if (asked > 1 && received.length >= asked) void this.stream.end()
        else if (received.length < asked) this.stream.open()
        await this.received(received, 'pull')
      } catch (error) {
        if (this.stopped) break
        // An empty long poll that ran out of time is not a failure.
        if (codeOf(error) === grpcCode.deadlineExceeded) {
          this.stream.open()
          continue
        }
        failures++
        this.context.connectionState.failed(error, true)
        if (failures === 1 || failures % 20 === 0) this.options.onError(connectionError(`pulling from '${this.target.subscription}'`, error))
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** Math.min(failures, 5), 2000)))
        // Deleted under a running consumer (by another process, or an operator): every pull would fail for good.
        if (codeOf(error) === grpcCode.notFound && !this.stopped) await this.recreate()
      }
    }
  }

  /** A failure here is left to the next pull, which fails the same way and comes back. */
  private async recreate(): Promise<void> {
    try {
      await this.context.recreateSubscription()
      this.stream.open()
    } catch {
      // Reported by the loop as the next pull's failure.
    }
  }

  /** Messages from a pull or the stream; after `stop` they go straight back. */
  private async received(received: ReceivedMessage[], source: 'pull' | 'stream'): Promise<void> {
    if (received.length === 0) return
    if (this.stopped) {
      const ackIds = received.map((item) => item.ackId).filter((id): id is string => typeof id === 'string')
      if (ackIds.length > 0) await this.modify(ackIds, 0).catch(() => {})
      return
    }
    try {
      await this.receive(received, source)
    } catch (error) {
      this.options.onError(connectionError(`receiving from '${this.target.subscription}'`, error))
    }
  }

  private async receive(received: ReceivedMessage[], source: 'pull' | 'stream'): Promise<void> {
    const now = Date.now()
    const skip: string[] = []
    const accepted: Array<{ ackId: string; envelope: ReturnType<typeof decodeMessage> }> = []
    const putBack = new Map<number, string[]>()
    for (const item of received) {
      if (!item.ackId || !item.message) continue
      const envelope = decodeMessage(item.message, 0)
      if (this.target.self !== undefined && envelope.to !== undefined && envelope.to !== this.target.self) {
        skip.push(item.ackId)
        continue
      }
      if (envelope.deliverAt !== undefined && envelope.deliverAt - now > dueToleranceMs) {
        const seconds = Math.min(maxDeadlineSeconds, Math.ceil((envelope.deliverAt - now) / 1000))
        putBack.set(seconds, [...(putBack.get(seconds) ?? []), item.ackId])
        continue
      }
      // A delayed message was most likely put back once before it was due; that was not an attempt.
      const delayedOnce = envelope.deliverAt !== undefined && envelope.deliverAt - envelope.publishedAt > dueToleranceMs ? 1 : 0
      envelope.message.attempt += Math.max(0, (item.deliveryAttempt ?? 1) - 1 - delayedOnce)
      if (this.filter !== undefined && !filterMatches(this.filter, envelope.message.subject, envelope.message.headers)) {
        skip.push(item.ackId)
        continue
      }
      accepted.push({ ackId: item.ackId, envelope })
    }
    const settling: Promise<unknown>[] = []
    if (skip.length > 0) settling.push(this.context.subscriber.acknowledge({ subscription: this.target.subscription, ackIds: skip }))
    for (const [seconds, ackIds] of putBack) settling.push(this.modify(ackIds, seconds))
    // A pull's deadline (the subscription's) or a stream's (10 s) covers the message until its lease is set here,
    // and one that is to wait (a stream's may have spent part of its deadline unread) gets a deadline this process knows.
    const lease = this.leaseSeconds()
    const mayWait = accepted.length > this.options.prefetch - this.unsettled.size - this.waiting.size
    let deadlineMs = now + (source === 'pull' ? this.context.ackDeadlineSeconds : streamAckDeadlineSeconds) * 1000
    if (accepted.length > 0 && (this.options.leaseMs !== undefined || (source === 'stream' && lease !== streamAckDeadlineSeconds) || mayWait)) {
      settling.push(
        this.modify(
          accepted.map((item) => item.ackId),
          lease,
        ).then(() => {
          deadlineMs = now + lease * 1000
        }),
      )
    }
    await Promise.all(settling).catch((error: unknown) => this.options.onError(connectionError('settling pulled messages', error)))
    for (const { ackId, envelope } of accepted) {
      // Behind anything already waiting, so messages are handed in the order they came.
      if (this.waiting.size === 0 && this.unsettled.size < this.options.prefetch) this.hand(ackId, envelope.message)
      else this.waiting.push(ackId, envelope.message, deadlineMs)
    }
    this.flow()
  }

  /**
   * A full consumer's stream reads nothing, and is ended before the first lease it holds can run out
   * (see {@link PubSubStream.pause}): a busy consumer is handed nothing an idle competitor could take,
   * not even the redelivery of a message its own overdue handler holds.
   */
  private flow(): void {
    if (this.unsettled.size + this.waiting.size < this.options.prefetch) {
      this.stream.resume()
      return
    }
    let firstExpiry = Number.POSITIVE_INFINITY
    for (const expiry of this.unsettled.values()) firstExpiry = Math.min(firstExpiry, expiry)
    // Half the time left: the end takes a round trip, and the server's clock started after ours. And no later than
    // halfway through a stream's deadline: what the paused stream holds unread is read (and kept alive) before it runs out.
    const endInMs = firstExpiry === Number.POSITIVE_INFINITY ? 0 : Math.max(0, (firstExpiry - Date.now()) / 2)
    this.stream.pause(Math.min(endInMs, (streamAckDeadlineSeconds * 1000) / 2))
  }

  /**
   * A slot came free: the oldest waiting message that is still alive takes it, with a whole lease (waiting
   * does not eat it), else the loop pulls.
   */
  private next(): void {
    const item = this.stopped ? undefined : this.waiting.shift()
    if (item === undefined) {
      this.flow()
      const wake = this.slotFreed
      this.slotFreed = undefined
      wake?.()
      return
    }
    const now = Date.now()
    const leaseMs = this.leaseSeconds() * 1000
    if (Math.abs(item.deadlineMs - now - leaseMs) <= Math.min(leaseToleranceMs, leaseMs / 10)) {
      this.hand(item.ackId, item.message, item.deadlineMs)
      return
    }
    this.modify([item.ackId], this.leaseSeconds()).catch((error: unknown) => this.options.onError(connectionError('setting a lease', error)))
    this.hand(item.ackId, item.message, now + leaseMs)
  }

  /** Hands a message to core; its lease runs out at `leaseEndMs` (a whole lease from now, unless given). */
  private hand(ackId: string, message: DecodedMessage, leaseEndMs = Date.now() + this.leaseSeconds() * 1000): void {
    this.unsettled.set(ackId, leaseEndMs)
    let settled = false
    const settle = () => {
      settled = true
      this.unsettled.delete(ackId)
      this.next()
    }
    const acknowledge = async (what: string) => {
      try {
        await this.closeDeadline.wait('an acknowledgement', this.acker.ack(ackId))
      } catch (error) {
        throw connectionError(`${what} of message '${message.id}'`, error)
      } finally {
        settle()
      }
    }
    this.deliver({
      message,
      raw: { ackId, subscription: this.target.subscription },
      ack: () => acknowledge('acknowledging'),
      retry: async (options) => {
        // When the copy is refused core releases the original, so it is not settled here.
        await this.context.publisher.publishTo(this.target.retryTopic, [retryCopy(message, options)], this.target.self)
        await acknowledge('acknowledging the retried original')
      },
      release: async () => {
        if (settled) return
        settle()
        await this.modify([ackId], 0)
      },
      extendLease: async (ms) => {
        if (settled) return
        const seconds = Math.min(maxDeadlineSeconds, Math.ceil(ms / 1000))
        await this.modify([ackId], seconds)
        if (!settled) this.unsettled.set(ackId, Date.now() + seconds * 1000)
      },
    })
  }

  /** The ack deadline a handed message gets: `leaseMs` rounded up, else the subscription's. */
  private leaseSeconds(): number {
    return this.options.leaseMs === undefined ? this.context.ackDeadlineSeconds : Math.min(maxDeadlineSeconds, Math.ceil(this.options.leaseMs / 1000))
  }

  private async modify(ackIds: string[], seconds: number): Promise<void> {
    try {
      // A call is bounded (Pub/Sub limits a request's size), and a refused call renews none of its ack
      // ids: a consumer holding thousands (a large `prefetch`) lost every lease at once.
      const calls: Promise<unknown>[] = []
      for (let start = 0; start < ackIds.length; start += maxAckIdsPerCall) {
        const part = start === 0 && ackIds.length <= maxAckIdsPerCall ? ackIds : ackIds.slice(start, start + maxAckIdsPerCall)
        calls.push(this.context.subscriber.modifyAckDeadline({ subscription: this.target.subscription, ackIds: part, ackDeadlineSeconds: seconds }))
      }
      await Promise.all(calls)
    } catch (error) {
      throw connectionError(`changing the ack deadline on '${this.target.subscription}'`, error)
    }
  }
}
