import type { JsMsg } from '@nats-io/jetstream'
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import { NatsPulledMessage } from './nats-pulled-message.js'

/** Past a pull request's expiry, how long its end (the server's 408) is waited for before the server is asked. */
const expiryGraceMs = 200

/** A pull request's end reported by the server as a failure (`409 Consumer Deleted`, `503`, `400`…). */
export class PullStatusError extends Error {
  constructor(
    readonly code: number,
    description: string,
  ) {
    super(`${code} ${description}`)
    this.name = 'PullStatusError'
  }
}

interface PullRequest {
  id: string
  batch: number
  received: number
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
   * (another `409`, `400`, `503`), when it cannot be sent, or when the server no longer knows it (a
   * restart): see {@link confirmEnded}.
   */
  pull(batch: number): Promise<void> {
    const id = `${this.inbox}.${++this.requests}`
    return new Promise<void>((resolve, reject) => {
      const request: PullRequest = {
        id,
        batch,
        received: 0,
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
      request.watchdog = setTimeout(() => void this.confirmEnded(request, false), this.expiresMs + expiryGraceMs)
    })
  }

  /** Ends the inbox subscription; call once no request is open, or what the server still sends is lost. */
  close(): void {
    this.open?.end()
    if (!this.subscription.isClosed()) this.subscription.unsubscribe()
  }

  private arrived(message: Msg): void {
    if (!message.subject.startsWith(this.inbox)) {
      const request = this.open
      if (request !== undefined && ++request.received >= request.batch) request.end()
      this.receive(new NatsPulledMessage(message, this.connection))
      return
    }
    const request = this.open
    // A status for a request that already ended (found lost, then answered after all) changes nothing.
    if (request === undefined || message.subject !== request.id) return
    const code = message.headers?.code ?? 0
    const description = message.headers?.description ?? ''
    // 100: an idle heartbeat or flow control, neither of which ends the request.
    if (code === 100) return
    if (code === 404 || code === 408 || (code === 409 && /leadership change/i.test(description))) request.end()
    else request.end(new PullStatusError(code, description || (code === 503 ? 'no responders' : 'unknown status')))
  }

  /**
   * The watchdog fired: the server's 408 may only be waiting behind a busy event loop. A round trip
   * to the server reads everything it sent before. A request still open after it was read by the
   * server (the round trip went after it) but perhaps late, so it gets one more expiry from there; one
   * still open after that too is gone (the server restarted, or dropped it with the connection).
   */
  private async confirmEnded(request: PullRequest, readByServer: boolean): Promise<void> {
    try {
      await this.connection.flush()
    } catch (error) {
      request.end(error instanceof Error ? error : new Error(String(error)))
      return
    }
    if (this.open !== request) return
    if (readByServer) request.end(new Error(`no answer to pull request '${request.id}' past its expiry`))
    else request.watchdog = setTimeout(() => void this.confirmEnded(request, true), this.expiresMs + expiryGraceMs)
  }
}
