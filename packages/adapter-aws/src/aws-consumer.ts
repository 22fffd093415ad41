import {
  CloseDeadline,
  ConnectionError,
  type ConnectionStateTracker,
  type Delivery,
  type Logger,
  type TransportConsumeOptions,
  type TransportConsumer,
} from '@anymq/core/spi'
import { ReceiveMessageCommand, type SQSClient, type Message as SqsMessage } from '@aws-sdk/client-sqs'
import type { Batcher } from './aws-batcher.js'
import { adapterName, isQueueMissing, isRetryable, wrapError } from './aws-errors.js'
import type { QueueRef } from './aws-topology.js'
import { decodeMessage } from './aws-wire-format.js'

/** One ChangeMessageVisibility (batched): `seconds` from now, 0 = visible at once. */
export interface VisibilityChange {
  receiptHandle: string
  seconds: number
}

export interface ConsumerContext {
  /** The long-poll client: its request timeout exceeds the wait. */
  pollClient: SQSClient
  waitTimeSeconds: number
  /** Visibility when `leaseMs` is not set; renewed by the heartbeat while a delivery is held. */
  defaultVisibilitySeconds: number
  deletes: Batcher<string>
  visibility: Batcher<VisibilityChange>
  /** Resolves the queue URL, provisioning the queue (and subscription) when needed. */
  provision: (force: boolean) => Promise<string>
  /** Called once on close (not on terminate): removes temporary queues. */
  onClose: () => Promise<void>
  /**
   * Concurrent ReceiveMessage calls of one consumer (each takes up to 10 messages), at most
   * `prefetch / 10`. 1 keeps a standard queue's best-effort order; more raise throughput.
   */
  pollers: number
  /** Hears of receives failing with an error the SDK recovers from, and of the next that works. */
  connectionState: ConnectionStateTracker
  /** Where a close that stopped waiting for SQS says so. */
  logger: Logger
}

/**
 * Longest a stopped consumer waits for SQS to answer a settle (a DeleteMessageBatch or
 * ChangeMessageVisibility): an endpoint that stops answering would hold each for the SDK's request
 * timeout and retries, and `mq.close()` with it. A settle given up on is delivered again once its
 * visibility timeout ends (at-least-once).
 */
const settleWaitAfterStopMs = 5_000
/** How long past its wait a long poll may still be answered once the consumer stopped; later, nothing it brings can be handed back. */
const pollAnswerGraceMs = 2_000

/** Longest SQS visibility timeout: 12 hours. */
export const maxVisibilitySeconds = 43_200

class HeldDelivery {
  settled = false
  /** Epoch ms until which `extendLease` asked to keep the message; the heartbeat never shortens it. */
  leaseUntil = 0
  constructor(
    readonly receiptHandle: string,
    readonly receivedAt: number,
  ) {}
}

/**
 * A consumer of one SQS queue: long-polls with up to `ceil(prefetch / 10)` concurrent receives, never
 * holding more than `prefetch` unsettled messages, and settles through batched DeleteMessage and
 * ChangeMessageVisibility calls. Without an explicit `leaseMs`, a heartbeat keeps every held message
 * invisible while the process lives, so a long handler is never raced by a redelivery.
 */
export class SqsConsumer implements TransportConsumer {
  private readonly held = new Set<HeldDelivery>()
  private readonly settling = new Set<Promise<void>>()
  /**
   * Aborts the receives themselves (`abandonPolls()`): `terminate()` does, and so does `mq.close()` with
   * `?closeWaitsForPolls=false`; a default close waits for them instead (`polled()` says why).
   */
  private readonly abort = new AbortController()
  /** Wakes a poller sleeping after a failed receive, so `stop()` ends the polls without waiting for it. */
  private readonly stopping = new AbortController()
  private readonly pollers: Promise<void>[] = []
  private readonly visibilitySeconds: number
  private readonly heartbeat: NodeJS.Timeout | undefined
  private reserved = 0
  private receiving = 0
  private stopped = false
  private closing: Promise<void> | undefined
  private readonly waiters = new Set<() => void>()
  private url: string | undefined
  private readonly closeDeadline: CloseDeadline

  constructor(
    readonly ref: QueueRef,
    private readonly context: ConsumerContext,
    private readonly options: TransportConsumeOptions,
    private readonly deliver: (delivery: Delivery) => void,
  ) {
    this.closeDeadline = new CloseDeadline(settleWaitAfterStopMs, (what, ms) =>
      context.logger.warn(
        `sqs consumer of queue '${ref.name}': SQS did not answer ${what} within ${ms} ms of the close; not waiting longer (a message whose settle was not answered is delivered again after its visibility timeout)`,
      ),
    )
    this.visibilitySeconds =
      options.leaseMs === undefined ? context.defaultVisibilitySeconds : Math.min(maxVisibilitySeconds, Math.max(1, Math.ceil(options.leaseMs / 1000)))
    if (options.leaseMs === undefined) {
      const every = Math.max(1000, (context.defaultVisibilitySeconds * 1000) / 3)
      this.heartbeat = setInterval(() => this.beat(), every)
      this.heartbeat.unref()
    }
  }

  /** Provisions the queue and starts polling; resolves once messages sent from now on will be seen. */
  async start(): Promise<void> {
    this.url = await this.context.provision(false)
    const count = Math.max(1, Math.min(this.context.pollers, Math.ceil(this.options.prefetch / 10)))
    for (let index = 0; index < count; index++) this.pollers.push(this.poll())
  }

  /**
   * Stops fetching at once. A long poll already waiting at SQS is not cut off: SQS (and moto) would
   * still hand it messages that then stay invisible for their whole visibility timeout. It is left to
   * finish (at most `waitTimeSeconds`, see `polled()`) and whatever it brings is handed straight back.
   */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.closeDeadline.start()
      // Every poll in flight began before now, so SQS has answered it by then if it answers at all.
      setTimeout(() => this.giveUpPolls(), this.context.waitTimeSeconds * 1000 + pollAnswerGraceMs).unref()
    }
    this.stopped = true
    this.stopping.abort()
    this.wakeAll()
  }

  /**
   * Resolves when no receive of this consumer is in flight any more (after `stop()`: within
   * `waitTimeSeconds`). The connection waits for it before closing its client, since a poll aborted
   * on our side goes on at SQS and takes the next messages sent, which then stay invisible.
   */
  async polled(): Promise<void> {
    await Promise.allSettled(this.pollers)
  }

  /** Aborts the long polls now (`terminate()`, or a close with `closeWaitsForPolls=false`): whatever SQS still hands them stays invisible. */
  abandonPolls(): void {
    this.stopped = true
    this.stopping.abort()
    this.abort.abort()
    this.wakeAll()
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.stop()
      if (this.heartbeat) clearInterval(this.heartbeat)
      const giveBack = [...this.held].filter((held) => !held.settled)
      await Promise.allSettled(giveBack.map((held) => this.settle(held, () => this.change(held, 0))))
      // Only this consumer's own settles: the batchers are shared with other consumers that may never pause.
      await this.closeDeadline.wait('settling messages', Promise.allSettled([...this.settling]))
      await this.closeDeadline.wait('removing its temporary queue', this.context.onClose())
    })()
    return this.closing
  }

  /** Stops at once without settling anything: held messages reappear when their visibility ends. */
  terminate(): void {
    this.abandonPolls()
    if (this.heartbeat) clearInterval(this.heartbeat)
    this.held.clear()
  }

  private async poll(): Promise<void> {
    let backoff = 0
    while (!this.stopped) {
      const free = this.options.prefetch - this.held.size - this.reserved
      if (free <= 0) {
        await new Promise<void>((resolve) => this.waiters.add(resolve))
        continue
      }
      const count = Math.min(10, free)
      this.reserved += count
      let messages: SqsMessage[]
      try {
        messages = await this.receive(count)
        backoff = 0
        this.context.connectionState.working()
      } catch (error) {
        if (this.stopped) break
        this.context.connectionState.failed(error, isRetryable(error))
        if (isQueueMissing(error)) {
          // Deleted behind our back, or an emulator restarted empty: provision it again.
          this.url = await this.context.provision(true).catch(() => undefined)
        }
        if (!this.stopped) this.options.onError(wrapError(error, `receiving from queue '${this.ref.name}'`))
        backoff = Math.min(5000, Math.max(200, backoff * 2))
        await sleep(backoff, this.stopping.signal)
        continue
      } finally {
        this.reserved -= count
      }
      for (const message of messages) this.accept(message)
    }
  }

  private async receive(count: number): Promise<SqsMessage[]> {
    this.url ??= await this.context.provision(false)
    // The watchdog: a receive that hangs past its wait is abandoned and retried, never waited on forever.
    const limitSeconds = this.context.waitTimeSeconds + 15
    const watchdog = AbortSignal.timeout(limitSeconds * 1000)
    this.receiving++
    const result = await this.context.pollClient
      .send(
        new ReceiveMessageCommand({
          QueueUrl: this.url,
          MaxNumberOfMessages: count,
          WaitTimeSeconds: this.context.waitTimeSeconds,
          VisibilityTimeout: this.visibilitySeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'SentTimestamp', 'MessageGroupId'],
        }),
        { abortSignal: AbortSignal.any([this.abort.signal, watchdog]) },
      )
      .catch((error: unknown) => {
        if (watchdog.aborted && !this.abort.signal.aborted) {
          throw new ConnectionError(
            `ReceiveMessage on queue '${this.ref.name}' got no answer within ${limitSeconds} s (wait ${this.context.waitTimeSeconds} s); polling again`,
            { adapter: adapterName, cause: error, retryable: true },
          )
        }
        throw error
      })
      .finally(() => this.receiving--)
    return result.Messages ?? []
  }

  private accept(message: SqsMessage): void {
    const receiptHandle = message.ReceiptHandle
    if (!receiptHandle) return
    const held = new HeldDelivery(receiptHandle, Date.now())
    this.held.add(held)
    if (this.stopped) {
      // Arrived after stop (the receive was already answered): hand it straight back.
      void this.settle(held, () => this.change(held, 0)).catch(() => {})
      return
    }
    const delivery: Delivery = {
      message: decodeMessage(message),
      raw: message,
      ack: () => this.settle(held, () => this.context.deletes.add(this.ref.name, receiptHandle)),
      // A retry that fails leaves the delivery unsettled (the SPI's contract): core releases it next.
      retry: ({ delayMs }) => this.settle(held, () => this.change(held, this.retrySeconds(held, delayMs)), { unsettledOnFailure: true }),
      release: () => this.settle(held, () => this.change(held, 0)),
      extendLease: async (ms) => {
        if (held.settled) return
        const seconds = Math.min(maxVisibilitySeconds, Math.max(1, Math.ceil(ms / 1000)))
        held.leaseUntil = Date.now() + seconds * 1000
        await this.change(held, seconds)
      },
    }
    this.deliver(delivery)
  }

  /**
   * Retry = hide the message for the backoff (ChangeMessageVisibility); SQS counts the next receive.
   * Whole seconds, rounded up so "no sooner than" holds; SQS caps a message's visibility at 12 hours
   * from its receive, so a longer backoff is shortened to what is left.
   */
  private retrySeconds(held: HeldDelivery, delayMs: number): number {
    const left = maxVisibilitySeconds - Math.ceil((Date.now() - held.receivedAt) / 1000) - 1
    return Math.max(0, Math.min(left, Math.ceil(delayMs / 1000)))
  }

  private change(held: HeldDelivery, seconds: number): Promise<void> {
    return this.context.visibility.add(this.ref.name, { receiptHandle: held.receiptHandle, seconds })
  }

  /** Settles once; the prefetch slot frees as soon as settling starts (and is taken back if it fails and stays unsettled). */
  private async settle(held: HeldDelivery, action: () => Promise<void>, options: { unsettledOnFailure?: boolean } = {}): Promise<void> {
    if (held.settled) return
    held.settled = true
    this.held.delete(held)
    this.wakeAll()
    const work = action()
    this.settling.add(work)
    try {
      await this.closeDeadline.wait('settling a message', work)
    } catch (error) {
      if (options.unsettledOnFailure) {
        held.settled = false
        this.held.add(held)
      }
      throw wrapError(error, `settling a message of queue '${this.ref.name}'`)
    } finally {
      this.settling.delete(work)
    }
  }

  private giveUpPolls(): void {
    if (this.receiving === 0 || this.abort.signal.aborted) return
    this.context.logger.warn(
      `sqs consumer of queue '${this.ref.name}': SQS did not answer a long poll within ${this.context.waitTimeSeconds} s (waitTimeSeconds) + ${pollAnswerGraceMs} ms of the close; not waiting longer`,
    )
    this.abort.abort()
  }

  private wakeAll(): void {
    for (const resolve of this.waiters) resolve()
    this.waiters.clear()
  }

  private beat(): void {
    const now = Date.now()
    for (const held of this.held) {
      if (held.settled) continue
      const seconds = Math.max(this.visibilitySeconds, Math.ceil((held.leaseUntil - now) / 1000))
      this.change(held, Math.min(seconds, maxVisibilitySeconds)).catch((error: unknown) => {
        if (!held.settled && !this.stopped) this.options.onError(wrapError(error, `renewing the lease of a message of queue '${this.ref.name}'`))
      })
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
