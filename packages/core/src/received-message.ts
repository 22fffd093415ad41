import type { Message } from './message.js'
import type { Delivery, IncomingMessage } from './spi/transport.js'
import { isReservedHeader, userHeaders } from './spi/wire-headers.js'

/** How a received message is settled: the consumer engine's operations, shared by all its messages. Internal. */
export interface Settlement {
  ack(delivery: Delivery): Promise<void>
  nack(delivery: Delivery, options: { delayMs?: number; reason?: string } | undefined): Promise<void>
  release(delivery: Delivery): Promise<void>
  extendLease(delivery: Delivery, ms: number): Promise<void>
}

/** The settle methods of one message, bound to it: made only when a handler reads one of them. */
interface BoundMethods {
  ack(): Promise<void>
  nack(options?: { delayMs?: number; reason?: string }): Promise<void>
  release(): Promise<void>
  extendLease(ms: number): Promise<void>
}

const settledAlready: Promise<void> = Promise.resolve()

/**
 * The sender's headers of a delivery, without anymq's reserved ones: always a fresh object of the
 * message's own (a shared frozen `{}` for messages without headers would make the same handler code
 * throw or not depending on what the sender sent), built without filtering when there are none.
 */
function receivedHeaders(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  for (const name in headers) if (!isReservedHeader(name)) return userHeaders(headers)
  return {}
}

/**
 * The {@link Message} a handler receives. Data are own properties (what `JSON.stringify` and spreading
 * see); `ack`, `nack`, `release` and `extendLease` are getters that bind all four to this message the
 * first time a handler reads one, so `const { ack } = message` works while a handler that never reads
 * them (the usual auto-ack handler) costs no closure. Settling is idempotent: the first settlement
 * wins, later calls and the auto ack do nothing. Internal.
 */
export class ReceivedMessage<T> implements Message<T> {
  readonly id: string
  readonly body: T
  readonly headers: Readonly<Record<string, string>>
  readonly key: string | undefined
  readonly attempt: number
  readonly timestamp: Date
  readonly correlationId: string | undefined
  readonly replyTo: string | undefined
  readonly subject: string | undefined
  readonly raw: unknown
  readonly #delivery: Delivery
  readonly #settlement: Settlement
  #settled = false
  #bound: BoundMethods | undefined

  constructor(delivery: Delivery, body: T, settlement: Settlement) {
    const message = delivery.message
    this.id = message.id
    this.body = body
    this.headers = receivedHeaders(message.headers)
    this.key = message.key
    this.attempt = message.attempt
    this.timestamp = new Date(message.timestamp)
    this.correlationId = message.correlationId
    this.replyTo = message.replyTo
    this.subject = message.subject
    this.raw = delivery.raw
    this.#delivery = delivery
    this.#settlement = settlement
  }

  get ack(): () => Promise<void> {
    return this.#methods().ack
  }

  get nack(): (options?: { delayMs?: number; reason?: string }) => Promise<void> {
    return this.#methods().nack
  }

  get release(): () => Promise<void> {
    return this.#methods().release
  }

  get extendLease(): (ms: number) => Promise<void> {
    return this.#methods().extendLease
  }

  /** Takes the one settlement of `message` for its caller: `false` when it was settled already. */
  static claim(message: ReceivedMessage<unknown>): boolean {
    if (message.#settled) return false
    message.#settled = true
    return true
  }

  /** The wire message behind a received message, reserved headers included; `undefined` for any other object. */
  static incomingOf(message: Message<unknown>): IncomingMessage | undefined {
    return #delivery in message ? (message as ReceivedMessage<unknown>).#delivery.message : undefined
  }

  #methods(): BoundMethods {
    if (this.#bound !== undefined) return this.#bound
    const delivery = this.#delivery
    const settlement = this.#settlement
    const claim = () => ReceivedMessage.claim(this)
    this.#bound = {
      ack: () => (claim() ? settlement.ack(delivery) : settledAlready),
      nack: (options) => (claim() ? settlement.nack(delivery, options) : settledAlready),
      release: () => (claim() ? settlement.release(delivery) : settledAlready),
      extendLease: (ms) => settlement.extendLease(delivery, ms),
    }
    return this.#bound
  }
}
