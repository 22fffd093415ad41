import type { DeliveryInfo, JsMsg, PullOptions } from '@nats-io/jetstream'
import type { Msg, NatsConnection } from '@nats-io/transport-node'

const encoder = new TextEncoder()
const ack = encoder.encode('+ACK')
const nak = encoder.encode('-NAK')
const working = encoder.encode('+WPI')
const term = encoder.encode('+TERM')
/** What @nats-io/jetstream gives `ackAck` by default (its API timeout). */
const ackAckTimeoutMs = 5000

/**
 * A JetStream message that arrived on a consumer's own pull inbox, with the acknowledgement protocol
 * of @nats-io/jetstream's `JsMsg` (which that library only makes for its own fetches and consumes):
 * every acknowledgement is a reply to the message's `$JS.ACK…` subject, and all but `+WPI` are final.
 */
export class NatsPulledMessage implements JsMsg {
  private acknowledged = false
  private parsedInfo: DeliveryInfo | undefined

  constructor(
    private readonly message: Msg,
    private readonly connection: NatsConnection,
  ) {}

  get subject(): string {
    return this.message.subject
  }

  get sid(): number {
    return this.message.sid
  }

  get data(): Uint8Array {
    return this.message.data
  }

  get headers(): Msg['headers'] {
    return this.message.headers
  }

  get reply(): string {
    return this.message.reply ?? ''
  }

  get info(): DeliveryInfo {
    this.parsedInfo ??= parseDeliveryInfo(this.reply)
    return this.parsedInfo
  }

  get redelivered(): boolean {
    return this.info.deliveryCount > 1
  }

  get seq(): number {
    return this.info.streamSequence
  }

  get timestampNanos(): bigint {
    return BigInt(ackTokens(this.reply)[9] as string)
  }

  get time(): Date {
    return new Date(Math.floor(this.info.timestampNanos / 1_000_000))
  }

  get timestamp(): string {
    return this.time.toISOString()
  }

  ack(): void {
    this.respond(ack)
  }

  nak(millis?: number): void {
    this.respond(millis ? encoder.encode(`-NAK ${JSON.stringify({ delay: millis * 1_000_000 })}`) : nak)
  }

  working(): void {
    this.respond(working)
  }

  term(reason = ''): void {
    this.respond(reason.length > 0 ? encoder.encode(`+TERM ${reason}`) : term)
  }

  next(subject: string, options: Partial<PullOptions> = { batch: 1 }): void {
    const request: Partial<PullOptions> = { batch: options.batch || 1, no_wait: options.no_wait || false }
    if (options.expires && options.expires > 0) request.expires = options.expires * 1_000_000
    this.message.respond(encoder.encode(`+NXT ${JSON.stringify(request)}`), subject ? { reply: subject } : undefined)
  }

  /** Acknowledges and resolves once the server confirmed it; `false` when already settled. */
  async ackAck(options?: Partial<{ timeout: number }>): Promise<boolean> {
    if (this.acknowledged || !this.message.reply) return false
    this.acknowledged = true
    await this.connection.request(this.message.reply, ack, { timeout: options?.timeout ?? ackAckTimeoutMs })
    return true
  }

  json<T>(): T {
    return this.message.json<T>()
  }

  string(): string {
    return this.message.string()
  }

  private respond(payload: Uint8Array): void {
    if (this.acknowledged) return
    // A work-in-progress reply extends the lease and leaves the message unsettled.
    this.acknowledged = payload !== working
    this.message.respond(payload)
  }
}

/** `$JS.ACK.<stream>.<consumer>.…` (9 tokens, old servers) or `$JS.ACK.<domain>.<account>.<stream>.…` (11 or more). */
function ackTokens(reply: string): string[] {
  const tokens = reply.split('.')
  if (tokens.length === 9) tokens.splice(2, 0, '_', '')
  if (tokens.length < 11 || tokens[0] !== '$JS' || tokens[1] !== 'ACK') throw new Error(`'${reply}' is not a JetStream acknowledgement subject`)
  return tokens
}

function parseDeliveryInfo(reply: string): DeliveryInfo {
  const tokens = ackTokens(reply)
  const deliveryCount = Number.parseInt(tokens[6] as string, 10)
  return {
    domain: tokens[2] === '_' ? '' : (tokens[2] as string),
    account_hash: tokens[3],
    stream: tokens[4] as string,
    consumer: tokens[5] as string,
    deliveryCount,
    redelivered: deliveryCount > 1,
    streamSequence: Number.parseInt(tokens[7] as string, 10),
    deliverySequence: Number.parseInt(tokens[8] as string, 10),
    timestampNanos: Number.parseInt(tokens[9] as string, 10),
    pending: Number.parseInt(tokens[10] as string, 10),
  }
}
