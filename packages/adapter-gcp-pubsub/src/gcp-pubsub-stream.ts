import { randomUUID } from 'node:crypto'
import type { v1 } from '@google-cloud/pubsub'
import { codeOf } from './gcp-pubsub-errors.js'

/** What a StreamingPull response carries that the consumer reads. */
export interface StreamedMessages {
  receivedMessages?: Array<{ ackId?: string | null; message?: unknown; deliveryAttempt?: number | null }> | null
}

/** Empty writes keep an idle stream open: the service closes streams that carry nothing for a while. */
const keepAliveMs = 30_000
/** How long `stop` waits for the server to end the stream before cancelling it. */
const endTimeoutMs = 5_000
/**
 * Ack deadline of what a stream delivers: the shortest the service allows, because a message the server
 * hands a stream the client is ending may never reach the client (pstest assigns it, then its send fails)
 * and comes back only after this. The consumer sets each message's lease as it arrives, as Google's own
 * subscriber does.
 */
export const streamAckDeadlineSeconds = 10
/** gRPC CANCELLED (our own `stop`) and UNIMPLEMENTED (a server without StreamingPull: pulls alone serve). */
const cancelled = 1
const unimplemented = 12

export interface PubSubStreamOptions {
  subscription: string
  /** Flow control the service applies to the stream (the consumer's prefetch). */
  maxOutstandingMessages: number
}

/**
 * A StreamingPull stream on a subscription, open between `open()` and `end()` but not while
 * paused (reopened if it breaks meanwhile), handing what it delivers to `onMessages`. It carries no acks (the consumer
 * settles with unary calls, as for pulled messages). The consumer opens it while its subscription
 * is idle, for latency: the service pushes a message on an open stream as soon as it is published,
 * where an empty Pull has to return and be sent again (pstest answers an empty Pull only after a
 * fixed 500 ms). It ends it when pulls find a backlog, which they take faster.
 */
export class PubSubStream {
  private stream: ReturnType<v1.SubscriberClient['streamingPull']> | undefined
  /** Half-closed and draining: read to its end whatever the consumer holds, or its messages would wait out their deadline. */
  private ending: ReturnType<v1.SubscriberClient['streamingPull']> | undefined
  private drained: Promise<void> = Promise.resolve()
  private stopped = false
  /** Opened and not ended by the consumer: reopened if it breaks, or once no longer paused. */
  private wanted = false
  /** The consumer holds as many messages as it may: the stream reads nothing, and ends at {@link endAt}. */
  private paused = false
  private endAt = Number.POSITIVE_INFINITY
  private endTimer: NodeJS.Timeout | undefined
  private failures = 0
  private keepAlive: NodeJS.Timeout | undefined
  private retry: NodeJS.Timeout | undefined

  constructor(
    private readonly subscriber: v1.SubscriberClient,
    private readonly options: PubSubStreamOptions,
    private readonly onMessages: (response: StreamedMessages) => void,
  ) {}

  open(): void {
    this.wanted = true
    if (this.stopped || this.paused || this.stream) return
    // The routing header the high-level client sends too: a stream's first request comes after the call is made.
    const stream = this.subscriber.streamingPull({ otherArgs: { headers: { 'x-goog-request-params': `subscription=${this.options.subscription}` } } })
    this.stream = stream
    stream.on('data', (response: StreamedMessages) => {
      this.failures = 0
      this.onMessages(response)
    })
    stream.on('error', (error: unknown) => this.ended(stream, codeOf(error)))
    stream.on('end', () => this.ended(stream, undefined))
    stream.write({
      subscription: this.options.subscription,
      streamAckDeadlineSeconds,
      maxOutstandingMessages: this.options.maxOutstandingMessages,
      clientId: randomUUID(),
    })
    this.keepAlive = setInterval(() => this.stream?.write({}), keepAliveMs)
    this.keepAlive.unref()
  }

  /**
   * The consumer holds as many messages as it may: the stream stops reading until {@link resume},
   * and if still paused `endInMs` from now (before the first lease the consumer holds runs out) it is
   * ended (as {@link end} does, what it still brings is read). Not reading is not enough then: an open
   * stream is one the server may hand a message to (pstest ignores `maxOutstandingMessages`; the
   * service stops counting a message once its deadline passes, so the expired one a hung handler
   * holds can come back here), and the transport's window takes it unread. That is a delivery,
   * counted in `deliveryAttempt`, of a message nobody works on until the stream's deadline, and pstest
   * sends a message redelivered from a stream to that same stream first, again and again. Ending it
   * at once instead would reopen a stream per message at concurrency 1.
   */
  pause(endInMs: number): void {
    this.paused = true
    if (this.stream && this.stream !== this.ending) this.stream.pause()
    const endAt = Date.now() + endInMs
    if (endAt >= this.endAt) return
    this.endAt = endAt
    clearTimeout(this.endTimer)
    this.endTimer = setTimeout(() => {
      if (this.paused) void this.drain()
    }, endInMs)
    this.endTimer.unref()
  }

  /** A slot came free: the stream reads again, or opens again if it was ended and the consumer wants one. */
  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.endAt = Number.POSITIVE_INFINITY
    clearTimeout(this.endTimer)
    if (this.stream && this.stream !== this.ending) this.stream.resume()
    else if (this.wanted) this.open()
  }

  /** Ends the stream for good (see {@link end}). */
  async stop(): Promise<void> {
    this.stopped = true
    await this.end()
  }

  /**
   * Half-closes the stream and waits until the server ended it, reading what it still sent. A
   * cancelled stream would be gone from the client at once but not yet from the server, which
   * could still hand it a message that then waits out its ack deadline.
   */
  async end(): Promise<void> {
    this.wanted = false
    await this.drain()
  }

  private async drain(): Promise<void> {
    clearTimeout(this.retry)
    clearTimeout(this.endTimer)
    clearInterval(this.keepAlive)
    const stream = this.stream
    if (!stream) return
    if (this.ending === stream) return this.drained
    this.ending = stream
    this.drained = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        stream.cancel()
        resolve()
      }, endTimeoutMs)
      timer.unref()
      const ended = () => {
        clearTimeout(timer)
        resolve()
      }
      stream.once('end', ended)
      stream.once('error', ended)
      stream.once('close', ended)
      stream.resume()
      stream.end()
    })
    await this.drained
    if (this.stream === stream) this.stream = undefined
    this.ending = undefined
    // Asked for again while this one drained (`open` found it still there).
    if (this.wanted && !this.paused && !this.stopped) this.open()
  }

  /** Stops at once, as a crashed process would: the server redelivers what the stream held after its ack deadline. */
  abandon(): void {
    this.stopped = true
    clearTimeout(this.retry)
    clearTimeout(this.endTimer)
    this.close()
  }

  private close(): void {
    clearInterval(this.keepAlive)
    const stream = this.stream
    this.stream = undefined
    stream?.cancel()
  }

  private ended(stream: unknown, code: number | undefined): void {
    if (stream !== this.stream) return
    this.close()
    if (stream === this.ending) return
    if (this.stopped || this.paused || !this.wanted || code === cancelled || code === unimplemented) return
    // Outages are reported by the Pull loop, which meets them too; the stream only comes back.
    this.failures++
    this.retry = setTimeout(() => this.open(), Math.min(100 * 2 ** Math.min(this.failures, 5), 2000))
    this.retry.unref()
  }
}
