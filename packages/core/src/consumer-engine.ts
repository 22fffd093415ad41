import type { Capabilities } from './capabilities.js'
import type { ClaimCheck } from './claim-check.js'
import type { Codec } from './codec.js'
import { AnymqError, SerializationError, Unrecoverable, UnsupportedFeatureError, ValidationError } from './errors.js'
import type { IdempotencyOptions, IdempotencyOutcome } from './idempotency-store.js'
import { KeySequencer } from './key-sequencer.js'
import type { Logger } from './logger.js'
import type { Message } from './message.js'
import type { RetryPolicy } from './retry-policy.js'
import { type StandardSchemaV1, validateBody } from './schema.js'
import { type CloudEventsHeaders, defaultCloudEventsHeaders } from './spi/cloud-events-headers.js'
import { republishCopy } from './spi/republish-retry.js'
import type { Delivery, IncomingMessage, QueueSpec, Source, Transport, TransportConsumer } from './spi/transport.js'
import { userHeaders, wireHeaders } from './spi/wire-headers.js'
import { noTelemetry, type Telemetry } from './telemetry/telemetry.js'

export type Handler<T> = (message: Message<T>) => unknown

export interface EngineSettings<T> {
  transport: Transport
  adapter: string
  capabilities: Capabilities
  logger: Logger
  source: Source
  /** Written into dead letters so redrive knows where they came from. */
  sourceLabel: string
  codec: Codec<unknown>
  schema: StandardSchemaV1<unknown, T> | undefined
  retry: RetryPolicy
  deadLetter: string | false
  concurrency: number
  prefetch: number
  ack: 'auto' | 'manual'
  leaseMs: number | undefined
  handler: Handler<T>
  onError: (error: Error) => void
  idempotency?: IdempotencyOptions | undefined
  claimCheck?: ClaimCheck | undefined
  /** The adapter's CloudEvents header convention, for codecs with an envelope. Default: `ce-` headers. */
  cloudEvents?: CloudEventsHeaders
  /** Process spans, retry and dead-letter events, consumer metrics. Default: none. */
  telemetry?: Telemetry
}

const maxErrorText = 1024

/** Settles a delivery whose handler succeeded (the ack), run by the caller when it is time. */
type Settle = () => Promise<void>

/** Nothing left to settle; one function for every delivery rather than a closure each. */
const settledNothing: Settle = () => Promise.resolve()

/** Thrown out of an idempotency store's work when the delivery was settled already (its body could not be read), so that nothing is recorded. */
const alreadySettled = new Error('[anymq] [core] the delivery was settled before its handler ran')
const incoming = Symbol('anymq.incoming')

/** The wire message behind a received message, reserved headers included. Internal. */
export function incomingOf(message: Message<unknown>): IncomingMessage | undefined {
  return (message as unknown as Record<symbol, IncomingMessage | undefined>)[incoming]
}

/**
 * Runs one consumer: decodes and validates each delivery, runs the handler under per-key ordering and
 * the concurrency limit, and settles it — ack on success, retry with backoff on failure, dead-letter
 * when attempts run out or the message can never succeed. Lives once here for every adapter.
 */
export class ConsumerEngine<T> {
  private readonly sequencer: KeySequencer
  private consumer: TransportConsumer | undefined
  private closing: Promise<void> | undefined
  private stopped = false
  readonly counts = { received: 0, acked: 0, retried: 0, deadLettered: 0, duplicates: 0, expired: 0 }

  constructor(private readonly settings: EngineSettings<T>) {
    this.sequencer = new KeySequencer(settings.concurrency)
  }

  async start(): Promise<void> {
    const { transport, source, prefetch, leaseMs, onError } = this.settings
    this.consumer = await transport.consume(source, { prefetch, leaseMs, onError }, (delivery) => this.accept(delivery))
    if (this.stopped) await this.consumer.close()
  }

  /** Stop fetching, let running handlers finish and settle, give back what never started, detach. */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    this.stopped = true
    const consumer = this.consumer
    if (consumer) await consumer.stop().catch((error: Error) => this.settings.onError(error))
    this.sequencer.abandonQueued()
    await this.sequencer.whenIdle()
    if (consumer) await consumer.close().catch((error: Error) => this.settings.onError(error))
  }

  private accept(delivery: Delivery): void {
    if (this.stopped) {
      void delivery.release().catch(() => {})
      return
    }
    this.counts.received++
    const telemetry = this.settings.telemetry ?? noTelemetry
    this.sequencer.submit(
      delivery.message.key,
      telemetry === noTelemetry ? () => this.process(delivery) : () => telemetry.process(this.settings.source, delivery.message, () => this.process(delivery)),
      () => void delivery.release().catch(() => {}),
    )
  }

  private async process(delivery: Delivery): Promise<void> {
    const { settings } = this
    const expiresAt = Number(delivery.message.headers[wireHeaders.expiresAt])
    if (expiresAt < Date.now()) {
      // Past its ttlMs: dropped unhandled, as the broker would have done with native expiry.
      this.counts.expired++
      settings.logger.debug(`message ${delivery.message.id} from ${settings.sourceLabel} expired ${Date.now() - expiresAt} ms ago; dropped unhandled`)
      await this.ack(delivery)
      return
    }
    const idempotency = settings.idempotency
    if (idempotency === undefined) {
      await this.handle(delivery, false)
      return
    }
    let outcome: IdempotencyOutcome<Settle>
    try {
      // The duplicate check comes first: a duplicate is skipped without fetching or decoding its body
      // (a claim-checked body is deleted once the first copy is acked).
      outcome = await idempotency.store.process(delivery.message.id, () => this.handle(delivery, true), { ttlMs: idempotency.ttlMs })
    } catch (error) {
      if (error === alreadySettled) return
      // The handler threw (nothing recorded), or the store itself failed: the retry policy applies.
      await this.fail(delivery, toError(error))
      return
    }
    if (outcome.duplicate) {
      this.counts.duplicates++
      await this.ack(delivery)
      return
    }
    // Acked only now, after the store recorded the id: a crash in between is skipped as a duplicate on redelivery.
    await outcome.result()
  }

  /**
   * Fetches, decodes and validates the body and runs the handler. A body that cannot be read settles
   * the delivery here (retry or dead letter). `deferAck` (idempotent consumers): a handler error is
   * rethrown unsettled and an unreadable body throws {@link alreadySettled}, so that the store records
   * nothing; on success the ack is returned for after the store recorded the id.
   */
  private async handle(delivery: Delivery, deferAck: boolean): Promise<Settle> {
    const { settings } = this
    let bytes: Uint8Array
    try {
      bytes = settings.claimCheck ? await settings.claimCheck.fetch(delivery.message) : delivery.message.body
    } catch (error) {
      // A store that cannot be reached is retried; a body gone from it is Unrecoverable (dead-lettered).
      await this.fail(delivery, toError(error))
      if (deferAck) throw alreadySettled
      return settledNothing
    }
    let body: T
    try {
      const envelope = settings.codec.envelope
      const decoded = envelope
        ? envelope.read(
            { body: bytes, contentType: delivery.message.contentType, headers: delivery.message.headers },
            { cloudEvents: settings.cloudEvents ?? defaultCloudEventsHeaders, where: settings.sourceLabel },
          )
        : settings.codec.decode(bytes)
      body = settings.schema
        ? await validateBody(settings.schema, decoded, `message ${delivery.message.id} from ${settings.sourceLabel}`, settings.adapter)
        : (decoded as T)
    } catch (error) {
      await this.deadLetter(delivery, error as Error)
      if (deferAck) throw alreadySettled
      return settledNothing
    }
    let settled = false
    const settleOnce = async (action: () => Promise<void>): Promise<void> => {
      if (settled) return
      settled = true
      await action()
    }
    const message: Message<T> & { [incoming]: IncomingMessage } = {
      id: delivery.message.id,
      body,
      headers: userHeaders(delivery.message.headers),
      key: delivery.message.key,
      attempt: delivery.message.attempt,
      timestamp: new Date(delivery.message.timestamp),
      correlationId: delivery.message.correlationId,
      replyTo: delivery.message.replyTo,
      subject: delivery.message.subject,
      raw: delivery.raw,
      ack: () => settleOnce(() => this.ack(delivery)),
      nack: (options) => settleOnce(() => this.fail(delivery, new Error(options?.reason ?? 'nacked by the handler'), options?.delayMs)),
      release: () => settleOnce(() => this.release(delivery)),
      [incoming]: delivery.message,
      extendLease: async (ms: number) => {
        if (!settings.capabilities.leaseExtension) {
          throw new UnsupportedFeatureError(settings.adapter, 'extendLease()', 'raise leaseMs when consuming, or split the work into smaller messages')
        }
        await delivery.extendLease(ms)
      },
    }
    const ackNow: Settle = () => (settings.ack === 'auto' ? settleOnce(() => this.ack(delivery)) : Promise.resolve())
    if (deferAck) {
      await settings.handler(message)
      return ackNow
    }
    try {
      await settings.handler(message)
      await ackNow()
    } catch (error) {
      await settleOnce(() => this.fail(delivery, toError(error)))
    }
    return settledNothing
  }

  /** `keepBody`: a dead-lettered message's claim-checked body stays for the dead letter. */
  private async ack(delivery: Delivery, keepBody = false): Promise<void> {
    try {
      await delivery.ack()
      this.counts.acked++
    } catch (error) {
      this.settings.onError(toError(error))
      return
    }
    // Awaited only when there is a claim check: an `await undefined` is one more microtask per message.
    if (!keepBody && this.settings.claimCheck) await this.settings.claimCheck.released(delivery.message).catch((error: Error) => this.settings.onError(error))
  }

  private async release(delivery: Delivery): Promise<void> {
    try {
      await delivery.release()
    } catch (error) {
      this.settings.onError(toError(error))
    }
  }

  private async fail(delivery: Delivery, error: Error, explicitDelayMs?: number): Promise<void> {
    const { retry } = this.settings
    const attempt = delivery.message.attempt
    if (error instanceof Unrecoverable || error instanceof ValidationError || error instanceof SerializationError || attempt >= retry.maxAttempts) {
      await this.deadLetter(delivery, error)
      return
    }
    const delayMs = explicitDelayMs ?? retry.delayAfter(attempt)
    try {
      await delivery.retry({
        delayMs,
        headers: failureHeaders(delivery, error),
      })
      this.counts.retried++
      this.settings.telemetry?.retried(this.settings.source, delivery.message, error, delayMs)
    } catch (retryError) {
      // The retry copy was not taken: hand the original back so it is not held until the connection closes.
      this.settings.onError(toError(retryError))
      await delivery.release().catch(() => {})
    }
  }

  private async deadLetter(delivery: Delivery, error: Error): Promise<void> {
    const { settings } = this
    const target = settings.deadLetter
    if (target === false) {
      settings.logger.error(`message ${delivery.message.id} from ${settings.sourceLabel} failed and has no dead-letter queue; dropped`, { error })
      settings.telemetry?.deadLettered(settings.source, delivery.message, error, false)
      await this.ack(delivery)
      return
    }
    const headers: Record<string, string> = {
      ...delivery.message.headers,
      ...failureHeaders(delivery, error),
      [wireHeaders.attempts]: String(delivery.message.attempt),
      [wireHeaders.source]: settings.sourceLabel,
    }
    delete headers[wireHeaders.attempt]
    // A dead letter is kept for inspection: it never expires.
    delete headers[wireHeaders.expiresAt]
    const copy = republishCopy(delivery.message, { headers, attempt: 1 })
    try {
      await settings.transport.publish({ kind: 'queue', queue: deadLetterSpec(target) }, [copy])
    } catch (publishError) {
      // Never ack what the dead-letter queue did not take: hand it back to be delivered again.
      settings.onError(toError(publishError))
      await delivery.release().catch(() => {})
      return
    }
    this.counts.deadLettered++
    settings.telemetry?.deadLettered(settings.source, delivery.message, error, target)
    await settings.claimCheck?.deadLettered(delivery.message).catch((error: Error) => settings.onError(error))
    await this.ack(delivery, true)
  }
}

/** How a dead-letter queue is provisioned: plain, no retries of its own, no further dead-lettering. */
export function deadLetterSpec(name: string): QueueSpec {
  return {
    name,
    ordered: false,
    deadLetter: false,
    maxAttempts: 1,
    broker: {},
  }
}

function failureHeaders(delivery: Delivery, error: Error): Record<string, string> {
  const now = String(Date.now())
  const name = error instanceof AnymqError ? error.code : error.name
  return {
    [wireHeaders.errorName]: name,
    [wireHeaders.errorMessage]: error.message.length > maxErrorText ? `${error.message.slice(0, maxErrorText)}…` : error.message,
    [wireHeaders.firstFailureAt]: delivery.message.headers[wireHeaders.firstFailureAt] ?? now,
    [wireHeaders.lastFailureAt]: now,
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}
