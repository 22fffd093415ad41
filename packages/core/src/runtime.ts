import type { Capabilities } from './capabilities.js'
import { ClosedError } from './errors.js'
import type { Logger } from './logger.js'
import { type OptionCheck, type OptionShape, objectOf } from './options-validation.js'
import { ReplyInbox } from './reply-inbox.js'
import type { Destination, OutgoingMessage, Transport } from './spi/transport.js'
import { noTelemetry, type Telemetry } from './telemetry/telemetry.js'

export interface Closeable {
  close(): Promise<void>
}

/** What queues, topics and request/reply share from their connection. Internal. */
export class Runtime {
  private readonly pending = new Set<Promise<unknown>>()
  private readonly closeables = new Set<Closeable>()
  closed = false
  /** The connection's one reply inbox, shared by every requester made from it. */
  readonly replies: ReplyInbox
  /** Checks the `broker` option of a queue, topic, subscription, requester or responder against the adapter's declaration. */
  readonly brokerOptionsCheck: OptionCheck

  constructor(
    readonly transport: Transport,
    readonly adapter: string,
    readonly capabilities: Capabilities,
    readonly logger: Logger,
    queueBrokerOptions: OptionShape = {},
    /** Traces and metrics of sends and processing; see `telemetry/`. */
    readonly telemetry: Telemetry = noTelemetry,
  ) {
    this.replies = new ReplyInbox(transport, adapter, logger)
    this.brokerOptionsCheck = objectOf(queueBrokerOptions)
  }

  assertOpen(what = 'the connection'): void {
    if (this.closed) throw new ClosedError(what, { adapter: this.adapter })
  }

  publish(destination: Destination, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    if (this.telemetry === noTelemetry) return this.transport.publish(destination, messages, signal)
    return this.telemetry.publish(destination, messages, () => this.transport.publish(destination, messages, signal))
  }

  /**
   * Runs a send that the caller started while the connection was open, and keeps it so that
   * `close()` waits for it: a send accepted before close is never cut off by it.
   */
  accept<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ClosedError(what, { adapter: this.adapter }))
    const promise = work()
    this.pending.add(promise)
    const forget = () => this.pending.delete(promise)
    promise.then(forget, forget)
    return promise
  }

  track<T extends Closeable>(closeable: T): T {
    this.closeables.add(closeable)
    return closeable
  }

  untrack(closeable: Closeable): void {
    this.closeables.delete(closeable)
  }

  async closeAll(): Promise<void> {
    this.closed = true
    await Promise.allSettled([...this.closeables].map((closeable) => closeable.close()))
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
    // Last: every requester has already rejected what it was waiting for.
    await this.replies.close().catch((error: Error) => this.logger.warn(`closing the reply inbox: ${error.message}`, { error }))
  }
}
