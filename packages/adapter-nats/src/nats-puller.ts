import type { JsMsg } from '@nats-io/jetstream'
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import { PullStatusError, PullUnansweredError } from './nats-errors.js'
import { NatsPulledMessage } from './nats-pulled-message.js'

/** Past a pull request's expiry, how long its end (the server's 408) is waited for before the server is asked. */
const expiryGraceMs = 200
/**
 * Expiries a request may outlive on an unbroken connection before it is given up. A server short of
 * CPU answers late, and one CI run saw it answer none of a request's five expiries: a consumer stuck
 * for good would be worse than one pull request too many.
 */
const expiriesBeforeGivingUp = 5
/**
 * How long a request given up on an unbroken connection stays owed when the server never answers it.
 * The server read it (a flush round trip came back) but JetStream serves and expires pull requests
 * on its own queue, which a server short of CPU works through late: it expires a request
 * `expires` after it takes it up, not after it read it. So such a request is owed until its status
 * (408, 404, 409) comes or a later request is answered (see `answered`); this bound only keeps a
 * consumer from waiting for good on one that never does.
 */
const unansweredOwedMs = 30_000

/**
 * What a pull request given up on may still bring: the server of a connection that survived (or one
 * that read the request late) serves it until its own expiry, and the messages come to this inbox.
 */
interface GivenUpRequest {
  /** Its reply subject: the server's status for it ends what it owes. */
  id: string
  /** Its place in the order requests went out (see {@link NatsPuller.answered}). */
  sequence: number
  /** Given up with no answer on a live connection (rather than lost with its connection). */
  unanswered: boolean
  /** Sent by {@link NatsPuller.probe}. */
  probe: boolean
  remaining: number
  /**
   * When it stops being owed without an answer: for a request lost with its connection, once the
   * server has expired it (`expires` after it read it, which was before it was given up); for one
   * the server has not answered on a live connection, {@link unansweredOwedMs}.
   */
  until: number
}

interface PullRequest {
  id: string
  sequence: number
  probe: boolean
  batch: number
  received: number
  /** The connection (server and client id) the request went out on. */
  sentOn: string
  expiries: number
  watchdog: NodeJS.Timeout | undefined
  end: (error?: Error) => void
}

/**
 * The pull requests of one JetStream consumer, all answered on one inbox subscription that lives as
 * long as the puller. @nats-io/jetstream's `fetch()` subscribes an inbox per fetch and drops it when
 * the fetch ends, also when the fetch gives up on idle heartbeats that a busy event loop did not
 * read in time; what the server then sent into that pull went nowhere and was redelivered only after
 * AckWait. Here nothing the server sends for this consumer is dropped: a message that comes after its
 * request ended (or after the puller was told to stop) is still handed to `receive`.
 *
 * One request is open at a time. Each has its own reply subject under the inbox, so the server's
 * status messages (sent to that subject) say which request they end; messages come with their own
 * subject and count against the open request.
 */
export class NatsPuller {
  private readonly inbox = createInbox()
  private readonly subscription: Subscription
  private readonly requestSubject: string
  private open: PullRequest | undefined
  private requests = 0
  private givenUp: GivenUpRequest[] = []
  /** Called when the server ends a request given up on: what it owed is free again. */
  onOwedEnded: (() => void) | undefined

  constructor(
    private readonly connection: NatsConnection,
    apiPrefix: string,
    stream: string,
    consumer: string,
    private readonly expiresMs: number,
    private readonly receive: (message: JsMsg) => void,
  ) {
    this.requestSubject = `${apiPrefix}.CONSUMER.MSG.NEXT.${stream}.${consumer}`
    this.subscription = connection.subscribe(`${this.inbox}.*`, {
      callback: (error, message) => {
        if (error === null) this.arrived(message)
      },
    })
  }

  /**
   * Asks for up to `batch` messages and resolves when the request ends: served in full, expired
   * (`408`), no messages (`404`), or a leadership change (`409`). Rejects when the server refuses it
   * (another `409`, `400`, `503`), when it cannot be sent, or when the connection it went out on was
   * lost (see {@link confirmEnded}).
   */
  pull(batch: number): Promise<void> {
    return this.request(batch, false)
  }

  /**
   * Whether {@link probe} may be sent: a request given up with no answer on a live connection is still
   * owed, and no probe given up so is (one request too many at most, not one per expiry).
   */
  mayProbe(now = Date.now()): boolean {
    let unanswered = false
    for (const request of this.givenUp) {
      if (!request.unanswered || request.until <= now) continue
      if (request.probe) return false
      unanswered = true
    }
    return unanswered
  }

  /**
   * Asks for one message beyond what is owed to requests the server left unanswered: its answer says
   * whether the server still holds them ({@link answered}). Otherwise a {@link pull} of one.
   */
  probe(): Promise<void> {
    return this.request(1, true)
  }

  private request(batch: number, probe: boolean): Promise<void> {
    const sequence = ++this.requests
    const id = `${this.inbox}.${sequence}`
    return new Promise<void>((resolve, reject) => {
      const request: PullRequest = {
        id,
        sequence,
        probe,
        batch,
        received: 0,
        sentOn: this.connectionId(),
        expiries: 0,
        watchdog: undefined,
        end: (error) => {
          clearTimeout(request.watchdog)
          if (this.open === request) this.open = undefined
          if (error) reject(error)
          else resolve()
        },
      }
      try {
        this.connection.publish(this.requestSubject, JSON.stringify({ batch, expires: this.expiresMs * 1_000_000 }), { reply: id })
      } catch (error) {
        reject(error)
        return
      }
      this.open = request
      request.watchdog = setTimeout(() => void this.confirmEnded(request), this.expiresMs + expiryGraceMs)
    })
  }

  /**
   * Messages that requests given up on may still bring, until the server's expiry of each has
   * passed: the consumer counts them as taken, so that no more than `prefetch` are ever unsettled.
   */
  owed(now = Date.now()): number {
    let owed = 0
    for (const request of this.givenUp) if (request.until > now) owed += request.remaining
    if (owed === 0 && this.givenUp.length > 0) this.givenUp = []
    return owed
  }

  /** When the next of the owed messages stops being owed (epoch ms), or `undefined` when none is. */
  owedUntil(now = Date.now()): number | undefined {
    let until: number | undefined
    for (const request of this.givenUp)
      if (request.until > now && request.remaining > 0 && (until === undefined || request.until < until)) until = request.until
    return until
  }

  /** Owes nothing any more for requests given up on: the consumer they went to no longer exists. */
  forgetGivenUp(): void {
    this.givenUp = []
  }

  /** Ends the inbox subscription; call once no request is open, or what the server still sends is lost. */
  close(): void {
    this.open?.end()
    if (!this.subscription.isClosed()) this.subscription.unsubscribe()
  }

  private arrived(message: Msg): void {
    if (!message.subject.startsWith(this.inbox)) {
      // A message says not which request it answers: one owed by a request given up on is counted there first.
      const owedBy = this.givenUp.find((request) => request.remaining > 0 && request.until > Date.now())
      const request = this.open
      if (owedBy !== undefined) owedBy.remaining--
      else if (request !== undefined && ++request.received >= request.batch) {
        this.answered(request)
        request.end()
      }
      this.receive(new NatsPulledMessage(message, this.connection))
      return
    }
    const code = message.headers?.code ?? 0
    // A status for a request given up on (any but a heartbeat): the server has ended it, it owes nothing more.
    const givenUp = code === 100 ? -1 : this.givenUp.findIndex((entry) => entry.id === message.subject)
    if (givenUp >= 0) {
      this.givenUp.splice(givenUp, 1)
      this.onOwedEnded?.()
      return
    }
    const request = this.open
    // A status for a request that already ended otherwise changes nothing.
    if (request === undefined || message.subject !== request.id) return
    const description = message.headers?.description ?? ''
    // 100: an idle heartbeat or flow control, neither of which ends the request.
    if (code === 100) return
    // 503 comes from the server's core (no responders), not from JetStream's queue of requests.
    if (code !== 503) this.answered(request)
    if (code === 404 || code === 408 || (code === 409 && /leadership change/i.test(description))) request.end()
    else request.end(new PullStatusError(code, description || (code === 503 ? 'no responders' : 'unknown status')))
  }

  /**
   * The watchdog fired: the server's 408 may only be waiting behind a busy event loop, or the server
   * may have read the request late. A round trip to the server reads everything it sent before. A
   * request still open after it is gone if the connection it went out on was lost (a restarted server
   * knows none of them); otherwise it is waited for one more expiry.
   */
  private async confirmEnded(request: PullRequest): Promise<void> {
    try {
      await this.connection.flush()
    } catch (error) {
      if (this.open === request) this.giveUp(request, error instanceof Error ? error : new Error(String(error)))
      return
    }
    if (this.open !== request) return
    if (this.connectionId() !== request.sentOn) this.giveUp(request, new Error(`pull request '${request.id}' was lost with its connection`))
    else if (++request.expiries >= expiriesBeforeGivingUp) this.giveUp(request, new PullUnansweredError(request.id, request.expiries), true)
    else request.watchdog = setTimeout(() => void this.confirmEnded(request), this.expiresMs + expiryGraceMs)
  }

  /**
   * The server has answered `request`. JetStream takes a consumer's pull requests up in the order they
   * came, so one given up earlier with no answer has been taken up too: the server serves or expires it
   * within one expiry from now, unless its status comes first.
   */
  private answered(request: PullRequest): void {
    if (this.givenUp.length === 0) return
    const until = Date.now() + this.expiresMs + expiryGraceMs
    for (const earlier of this.givenUp) {
      if (!earlier.unanswered || earlier.sequence > request.sequence) continue
      earlier.unanswered = false
      if (earlier.until > until) earlier.until = until
    }
  }

  /** Ends `request` with an error, counting what the server may still send for it (see {@link owed}). */
  private giveUp(request: PullRequest, error: Error, unanswered = false): void {
    const remaining = request.batch - request.received
    const owedMs = unanswered ? unansweredOwedMs : this.expiresMs + expiryGraceMs
    if (remaining > 0)
      this.givenUp.push({ id: request.id, sequence: request.sequence, unanswered, probe: request.probe, remaining, until: Date.now() + owedMs })
    request.end(error)
  }

  private connectionId(): string {
    const info = this.connection.info
    return `${info?.server_id}/${info?.client_id}`
  }
}
