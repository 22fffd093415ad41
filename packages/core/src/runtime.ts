import { abortable } from './abortable.js'
import { DeclaredChannels } from './asyncapi/declared-channels.js'
import type { Capabilities } from './capabilities.js'
import { AbortedError, ClosedError } from './errors.js'
import type { Logger } from './logger.js'
import { type OptionCheck, type OptionShape, objectOf } from './options-validation.js'
import { inspectSymbol } from './redact.js'
import { ReplyInbox } from './reply-inbox.js'
import { type CloudEventsHeaders, defaultCloudEventsHeaders } from './spi/cloud-events-headers.js'
import { describeDestination } from './spi/republish-retry.js'
import type { Destination, OutgoingMessage, Transport } from './spi/transport.js'
import { noTelemetry, type Telemetry } from './telemetry/telemetry.js'

export interface Closeable {
  close(): Promise<void>
}

/** What queues, topics and request/reply share from their connection. Internal. */
export class Runtime {
  /** Sends accepted and not yet settled: a count, not a set of promises, since it is paid on every send. */
  private inFlight = 0
  private idle: (() => void) | undefined
  private readonly closeables = new Set<Closeable>()
  closed = false
  /** The connection's one reply inbox, shared by every requester made from it. */
  readonly replies: ReplyInbox
  /** Checks the `broker` option of a queue, topic, subscription, requester or responder against the adapter's declaration. */
  readonly brokerOptionsCheck: OptionCheck
  /** How the adapter carries CloudEvents attributes in headers (its factory's `cloudEvents`, or `ce-` headers). */
  cloudEventsHeaders: CloudEventsHeaders = defaultCloudEventsHeaders
  /** Queues, topics and request/reply endpoints declared on this connection, for `mq.asyncapi()`. */
  readonly declarations = new DeclaredChannels()

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
    this.storesAtOnce = telemetry === noTelemetry && typeof transport.publishNow === 'function'
    this.brokerOptionsCheck = objectOf(queueBrokerOptions)
  }

  /** What `console.log` shows: not the transport, which holds the broker client and its credentials. */
  [inspectSymbol](): string {
    return `Runtime { adapter: '${this.adapter}', closed: ${this.closed} }`
  }

  assertOpen(what = 'the connection'): void {
    if (this.closed) throw new ClosedError(what, { adapter: this.adapter })
  }

  /** The transport stores a message before `publishNow` returns, and no telemetry wraps a publish. */
  readonly storesAtOnce: boolean

  /**
   * Hands `messages` to the transport. With a `signal`: one that has aborted sends nothing, and one
   * that aborts before the broker confirmed rejects at once with `AbortedError`. A transport heeds the
   * signal only until it hands the messages over (a declare, a wait for a reconnect); a broker that
   * took them and went quiet (frozen, partitioned) would otherwise hold the call for as long as it
   * stays so. What it was given may still be stored: the abort recalls nothing.
   */
  publish(destination: Destination, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    if (signal === undefined) return this.publishToTransport(destination, messages, undefined)
    if (signal.aborted) {
      return Promise.reject(
        new AbortedError(`publishing ${messages.length} message(s) to ${describeDestination(destination)}`, {
          adapter: this.adapter,
          detail: 'nothing was sent',
        }),
      )
    }
    return abortable(
      this.publishToTransport(destination, messages, signal),
      signal,
      `publishing ${messages.length} message(s) to ${describeDestination(destination)}`,
      this.adapter,
      {
        detail: 'the broker had not confirmed them and may still store them (sending again may make a duplicate)',
      },
    )
  }

  private publishToTransport(destination: Destination, messages: readonly OutgoingMessage[], signal: AbortSignal | undefined): Promise<void> {
    if (this.telemetry === noTelemetry) return this.transport.publish(destination, messages, signal)
    return this.telemetry.publish(destination, messages, () => this.transport.publish(destination, messages, signal))
  }

  /** One message stored at once; only when {@link storesAtOnce}. */
  publishNow(destination: Destination, message: OutgoingMessage): void {
    ;(this.transport as Required<Pick<Transport, 'publishNow'>>).publishNow(destination, message)
  }

  /**
   * Marks the start of a send the caller started while the connection was open, so that `close()`
   * waits for it: a send accepted before close is never cut off by it. Throws `ClosedError` after
   * close. Every `enter()` is paired with one {@link leave}, in a `finally`.
   */
  enter(what: string): void {
    if (this.closed) throw new ClosedError(what, { adapter: this.adapter })
    this.inFlight++
  }

  /** Ends a send begun with {@link enter}. */
  leave(): void {
    this.inFlight--
    if (this.inFlight === 0 && this.idle) {
      const wake = this.idle
      this.idle = undefined
      wake()
    }
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
    while (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve))
    // Last: every requester has already rejected what it was waiting for.
    await this.replies.close().catch((error: Error) => this.logger.warn(`closing the reply inbox: ${error.message}`, { error }))
  }
}
