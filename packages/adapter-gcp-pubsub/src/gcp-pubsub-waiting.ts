/**
 * As long as `@google-cloud/pubsub`'s lease manager keeps a message it holds (`maxExtension`, 60 min by
 * default): past it a waiting message is given back for another consumer.
 */
export const maxWaitMs = 60 * 60_000
/**
 * A message with less of its deadline left than this (or a quarter of the deadline last set, if shorter) is
 * taken for gone: the call that would set its lease or renew it may come too late.
 */
const expiryMarginMs = 1_000

/** A received message the consumer holds until a slot frees. */
export interface WaitingMessage<M> {
  ackId: string
  message: M
  /** When its ack deadline runs out (ms since the epoch), as this process reckons it: never later than the server's. */
  deadlineMs: number
  /** When it began to wait. */
  receivedMs: number
  /** Halfway through the deadline last set: a renewal's round trip and a slow event loop fit in the other half. */
  renewAtMs: number
  /** Less of the deadline left than this, and it is taken for gone (see {@link expiryMarginMs}). */
  marginMs: number
}

export interface PubSubWaitingOptions {
  /** The ack deadline each renewal sets, in seconds. */
  extensionSeconds: number
  modifyAckDeadline: (ackIds: string[], seconds: number) => Promise<void>
  onError: (error: unknown) => void
}

/**
 * The messages a full consumer holds but has not handed out, in arrival order, kept alive as
 * `@google-cloud/pubsub`'s lease manager keeps them: their ack deadline is renewed halfway through,
 * so waiting eats neither a handler's lease nor an attempt. One that waited longer than {@link maxWaitMs} is
 * given back (deadline 0); one whose deadline ran out anyway (a renewal failed, the process stalled) is
 * given back and never handed: its ack id is dead, an ack with it would be ignored and the message
 * delivered again.
 */
export class PubSubWaitingMessages<M> {
  private readonly items: Array<WaitingMessage<M>> = []
  private timer: NodeJS.Timeout | undefined
  private timerAt = Number.POSITIVE_INFINITY
  private failures = 0

  constructor(private readonly options: PubSubWaitingOptions) {}

  get size(): number {
    return this.items.length
  }

  push(ackId: string, message: M, deadlineMs: number): void {
    const now = Date.now()
    const spanMs = deadlineMs - now
    this.items.push({ ackId, message, deadlineMs, receivedMs: now, renewAtMs: now + spanMs / 2, marginMs: Math.min(expiryMarginMs, spanMs / 4) })
    this.schedule()
  }

  /** The oldest message whose deadline has not run out; those before it that ran out are given back. */
  shift(): WaitingMessage<M> | undefined {
    const now = Date.now()
    const expired: string[] = []
    let item = this.items.shift()
    while (item !== undefined && item.deadlineMs - now < item.marginMs) {
      expired.push(item.ackId)
      item = this.items.shift()
    }
    this.giveBack(expired)
    if (this.items.length === 0) this.cancel()
    return item
  }

  /** Takes every message out and stops renewing; the caller gives them back, or not (a crash). */
  clear(): string[] {
    this.cancel()
    return this.items.splice(0).map((item) => item.ackId)
  }

  private schedule(notBeforeMs = 0): void {
    let renewAt = Number.POSITIVE_INFINITY
    for (const item of this.items) renewAt = Math.min(renewAt, item.renewAtMs)
    renewAt = Math.max(renewAt, notBeforeMs)
    if (renewAt >= this.timerAt) return
    this.cancel()
    if (renewAt === Number.POSITIVE_INFINITY) return
    this.timerAt = renewAt
    this.timer = setTimeout(() => void this.renew(), Math.max(0, renewAt - Date.now()))
    this.timer.unref()
  }

  private cancel(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Number.POSITIVE_INFINITY
  }

  /** One call for every waiting message: a message that came later is renewed early, for no extra call. */
  private async renew(): Promise<void> {
    this.cancel()
    const now = Date.now()
    const keeps = (item: WaitingMessage<M>) => now - item.receivedMs < maxWaitMs && item.deadlineMs - now >= item.marginMs
    const kept = this.items.filter(keeps)
    this.giveBack(this.items.filter((item) => !keeps(item)).map((item) => item.ackId))
    this.items.splice(0, this.items.length, ...kept)
    if (kept.length === 0) return
    const seconds = this.options.extensionSeconds
    try {
      await this.options.modifyAckDeadline(
        kept.map((item) => item.ackId),
        seconds,
      )
      this.failures = 0
      for (const item of kept) {
        item.deadlineMs = Math.max(item.deadlineMs, now + seconds * 1000)
        item.renewAtMs = now + (seconds * 1000) / 2
        item.marginMs = Math.min(expiryMarginMs, (seconds * 1000) / 4)
      }
      this.schedule()
    } catch (error) {
      // Reported as the pull loop reports an outage: the first failure, then every 20th.
      if (this.failures++ % 20 === 0) this.options.onError(error)
      // Tried again a second later, until the deadline it had runs out.
      this.schedule(Date.now() + 1000)
    }
  }

  private giveBack(ackIds: string[]): void {
    if (ackIds.length > 0) this.options.modifyAckDeadline(ackIds, 0).catch((error: unknown) => this.options.onError(error))
  }
}
