import type { Capabilities } from './capabilities.js'
import type { ClaimCheck } from './claim-check.js'
import type { Codec } from './codec.js'
import { AnymqError, SerializationError, Unrecoverable, UnsupportedFeatureError, ValidationError } from './errors.js'
import type { IdempotencyOptions, IdempotencyOutcome } from './idempotency-store.js'
import { KeySequencer } from './key-sequencer.js'
import type { Logger } from './logger.js'
import type { Message } from './message.js'
import { ReceivedMessage, type Settlement } from './received-message.js'
import { inspectSymbol } from './redact.js'
import type { RetryPolicy } from './retry-policy.js'
import { type StandardSchemaV1, validateBody } from './schema.js'
import { type CloudEventsHeaders, defaultCloudEventsHeaders } from './spi/cloud-events-headers.js'
import { republishCopy } from './spi/republish-retry.js'
import type { Delivery, QueueSpec, Source, Transport, TransportConsumer } from './spi/transport.js'
import { wireHeaders } from './spi/wire-headers.js'
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

function keyOf(delivery: Delivery): string | undefined {
  return delivery.message.key
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function'
}

/**
 * Runs one consumer: decodes and validates each delivery, runs the handler under per-key ordering and
 * the concurrency limit, and settles it — ack on success, retry with backoff on failure, dead-letter
 * when attempts run out or the message can never succeed. Lives once here for every adapter.
 */
export class ConsumerEngine<T> {
  private readonly sequencer: KeySequencer<Delivery>
  /** What every received message settles through: one object per consumer, not closures per message. */
  private readonly settlement: Settlement
  /** No claim check to fetch and no schema to await: a body is decoded synchronously. */
  private readonly readsAtOnce: boolean
  /** Reads at once, acks on return, no idempotency store: a handler that returns no promise is settled in the same turn. */
  private readonly settlesAtOnce: boolean
  private consumer: TransportConsumer | undefined
  private closing: Promise<void> | undefined
  private stopped = false
  readonly counts = { received: 0, acked: 0, retried: 0, deadLettered: 0, duplicates: 0, expired: 0 }

  constructor(private readonly settings: EngineSettings<T>) {
    this.sequencer = new KeySequencer<Delivery>(
      settings.concurrency,
      keyOf,
      (delivery) => this.run(delivery),
      (delivery) => void delivery.release().catch(() => {}),
    )
    this.readsAtOnce = settings.claimCheck === undefined && settings.schema === undefined
    this.settlesAtOnce = this.readsAtOnce && settings.ack === 'auto' && settings.idempotency === undefined
    this.settlement = {
      ack: (delivery) => this.ack(delivery),
      nack: (delivery, options) => this.fail(delivery, new Error(options?.reason ?? 'nacked by the handler'), options?.delayMs),
      release: (delivery) => this.release(delivery),
      extendLease: async (delivery, ms) => {
        if (!settings.capabilities.leaseExtension) {
          throw new UnsupportedFeatureError(settings.adapter, 'extendLease()', 'raise leaseMs when consuming, or split the work into smaller messages')
        }
        await delivery.extendLease(ms)
      },
    }
  }

  /** What `console.log` shows: not the adapter's consumer, which holds the broker client and its credentials. */
  [inspectSymbol](): string {
    return `ConsumerEngine { adapter: '${this.settings.adapter}', stopped: ${this.stopped}, counts: ${JSON.stringify(this.counts)} }`
  }

  async start(): Promise<void> {
    const { transport, source, prefetch, leaseMs, onError, codec } = this.settings
    // An envelope reads headers too and may keep the bytes (binary CloudEvents data): only a plain decode into a new value counts.
    const bodiesReadOnly = codec.decodesToNewValue === true && codec.envelope === undefined
    this.consumer = await transport.consume(source, { prefetch, leaseMs, onError, bodiesReadOnly }, (delivery) => this.accept(delivery))
    if (this.stopped) {
      // Closed while consume() was under way, which may have delivered already: shutdown() had no consumer
      // to stop. Stopped now, and closed only after the handlers it started: closed under them, it would
      // take their messages back and deliver them again though they were handled.
      await this.consumer.stop().catch((error: Error) => onError(error))
      await this.sequencer.whenIdle()
      await this.consumer.close()
    }
  }

  /** Stop fetching, let running handlers finish and settle, give back what never started, detach. */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    this.stopped = true
    // Held, not given back yet: the adapter's stop may wait on I/O, and a handler finishing meanwhile
    // would free a slot for a queued delivery; released before the stop, the broker could hand it to
    // this still-subscribed consumer again.
    this.sequencer.hold()
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
    this.sequencer.submit(delivery)
  }

  /** Runs one delivery: the sequencer's task, with no closure of its own per message; `undefined` when it is done already. */
  private run(delivery: Delivery): Promise<void> | undefined {
    const telemetry = this.settings.telemetry ?? noTelemetry
    if (telemetry === noTelemetry) return this.process(delivery)
    return telemetry.process(this.settings.source, delivery.message, async () => this.process(delivery))
  }

  private process(delivery: Delivery): Promise<void> | undefined {
    const expiresAtHeader = delivery.message.headers[wireHeaders.expiresAt]
    if (expiresAtHeader !== undefined && Number(expiresAtHeader) < Date.now()) return this.dropExpired(delivery, Number(expiresAtHeader))
    if (this.settlesAtOnce) return this.handleAtOnce(delivery)
    // No idempotency store: the handling's own promise, none wrapped around it.
    if (this.settings.idempotency === undefined) return this.handle(delivery)
    return this.processOnce(delivery, this.settings.idempotency)
  }

  /**
   * {@link handle} without a promise of its own while nothing asks for one: the body is decoded, the
   * handler run and, when it returns no promise and the adapter acks synchronously (`ackNow`), the
   * delivery settled, all in this turn (`undefined`). Anything asynchronous continues in a promise.
   */
  private handleAtOnce(delivery: Delivery): Promise<void> | undefined {
    let message: ReceivedMessage<T>
    try {
      message = new ReceivedMessage(delivery, this.decode(delivery, delivery.message.body) as T, this.settlement)
    } catch (error) {
      return this.deadLetter(delivery, error as Error)
    }
    let result: unknown
    try {
      result = this.settings.handler(message)
    } catch (error) {
      return ReceivedMessage.claim(message) ? this.fail(delivery, toError(error)) : undefined
    }
    if (isPromiseLike(result)) return this.settleAfter(message, delivery, result)
    return ReceivedMessage.claim(message) ? this.ackAtOnce(delivery) : undefined
  }

  /** The rest of {@link handleAtOnce} for a handler that returned a promise. */
  private async settleAfter(message: ReceivedMessage<T>, delivery: Delivery, result: PromiseLike<unknown>): Promise<void> {
    try {
      await result
    } catch (error) {
      if (ReceivedMessage.claim(message)) await this.fail(delivery, toError(error))
      return
    }
    if (!ReceivedMessage.claim(message)) return
    // An async handler's ack is synchronous too where the adapter can (`ackNow`): no promise of its own to await.
    const acking = this.ackAtOnce(delivery)
    if (acking !== undefined) await acking
  }

  /**
   * Acks through `Delivery.ackNow` when the adapter settles synchronously (`undefined`: done), else
   * through {@link ack}. Only for consumers without a claim check, which {@link ack} would release.
   */
  private ackAtOnce(delivery: Delivery): Promise<void> | undefined {
    try {
      if (delivery.ackNow?.()) {
        this.counts.acked++
        return undefined
      }
    } catch (error) {
      // As a rejected ack() is: reported, the slot freed.
      this.settings.onError(toError(error))
      return undefined
    }
    return this.ack(delivery)
  }

  /** Past its ttlMs: dropped unhandled, as the broker would have done with native expiry. */
  private async dropExpired(delivery: Delivery, expiresAt: number): Promise<void> {
    this.counts.expired++
    this.settings.logger.debug(`message ${delivery.message.id} from ${this.settings.sourceLabel} expired ${Date.now() - expiresAt} ms ago; dropped unhandled`)
    await this.ack(delivery)
  }

  private async processOnce(delivery: Delivery, idempotency: IdempotencyOptions): Promise<void> {
    let outcome: IdempotencyOutcome<Settle>
    try {
      // The duplicate check comes first: a duplicate is skipped without fetching or decoding its body
      // (a claim-checked body is deleted once the first copy is acked).
      outcome = await idempotency.store.process(delivery.message.id, () => this.handleDeferred(delivery), { ttlMs: idempotency.ttlMs })
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

  /** Runs the handler and settles the delivery: ack on success (auto mode), the retry policy on a throw. */
  private async handle(delivery: Delivery): Promise<void> {
    let message: ReceivedMessage<T> | undefined
    if (this.readsAtOnce) {
      // No claim check to fetch, no schema to await: decoded in place, without a promise of its own.
      try {
        message = new ReceivedMessage(delivery, this.decode(delivery, delivery.message.body) as T, this.settlement)
      } catch (error) {
        await this.deadLetter(delivery, error as Error)
        return
      }
    } else {
      message = await this.read(delivery)
      if (message === undefined) return
    }
    try {
      const result = this.settings.handler(message)
      // A handler that returns no promise is not awaited: no extra turn of the microtask queue.
      if (isPromiseLike(result)) await result
    } catch (error) {
      if (ReceivedMessage.claim(message)) await this.fail(delivery, toError(error))
      return
    }
    if (this.settings.ack !== 'auto' || !ReceivedMessage.claim(message)) return
    // No claim check to release after the ack: a synchronous ack (`ackNow`) where the adapter has one.
    const acking = this.settings.claimCheck === undefined ? this.ackAtOnce(delivery) : this.ack(delivery)
    if (acking !== undefined) await acking
  }

  /**
   * For idempotent consumers: a handler error is rethrown unsettled and an unreadable body throws
   * {@link alreadySettled}, so that the store records nothing; on success the ack is returned for after
   * the store recorded the id.
   */
  private async handleDeferred(delivery: Delivery): Promise<Settle> {
    const message = await this.read(delivery)
    if (message === undefined) throw alreadySettled
    await this.settings.handler(message)
    if (this.settings.ack !== 'auto') return settledNothing
    return () => (ReceivedMessage.claim(message) ? this.ack(delivery) : Promise.resolve())
  }

  /**
   * Fetches, decodes and validates the body into the message a handler gets. A body that cannot be read
   * settles the delivery here (retry or dead letter) and gives `undefined`.
   */
  private async read(delivery: Delivery): Promise<ReceivedMessage<T> | undefined> {
    const { settings } = this
    let bytes: Uint8Array
    try {
      bytes = settings.claimCheck ? await settings.claimCheck.fetch(delivery.message) : delivery.message.body
    } catch (error) {
      // A store that cannot be reached is retried; a body gone from it is Unrecoverable (dead-lettered).
      await this.fail(delivery, toError(error))
      return undefined
    }
    let body: T
    try {
      const decoded = this.decode(delivery, bytes)
      body = settings.schema
        ? await validateBody(settings.schema, decoded, `message ${delivery.message.id} from ${settings.sourceLabel}`, settings.adapter)
        : (decoded as T)
    } catch (error) {
      await this.deadLetter(delivery, error as Error)
      return undefined
    }
    return new ReceivedMessage(delivery, body, this.settlement)
  }

  /** The body decoded by the codec (or its envelope, from the body, content type and headers); throws what the codec throws. */
  private decode(delivery: Delivery, bytes: Uint8Array): unknown {
    const { settings } = this
    const envelope = settings.codec.envelope
    if (envelope === undefined) return settings.codec.decode(bytes)
    return envelope.read(
      { body: bytes, contentType: delivery.message.contentType, headers: delivery.message.headers },
      { cloudEvents: settings.cloudEvents ?? defaultCloudEventsHeaders, where: settings.sourceLabel },
    )
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
