import { randomUUID } from 'node:crypto'
import { type CodecOption, codecCheck, resolveCodec } from './codec.js'
import { AbortedError, ClosedError, RemoteError, RequestTimeoutError } from './errors.js'
import { abortSignal, integer, type OptionCheck, ofType, standardSchema, stringRecord, validateOptions } from './options-validation.js'
import { type OutgoingContext, prepareOutgoing } from './outgoing-message.js'
import { validateName } from './queue.js'
import type { Runtime } from './runtime.js'
import { type StandardSchemaV1, validateBody } from './schema.js'
import type { Delivery, QueueSpec } from './spi/transport.js'
import { wireHeaders } from './spi/wire-headers.js'

/** Options shared by `mq.requester()` and `mq.responder()`. */
export interface RequestReplyOptions<Request, Response> {
  requestSchema?: StandardSchemaV1<unknown, Request>
  responseSchema?: StandardSchemaV1<unknown, Response>
  codec?: CodecOption
  broker?: Record<string, unknown>
}

export interface RequestOptions {
  /** Reject with `RequestTimeoutError` after this long. Default 30 000 ms. */
  timeoutMs?: number
  headers?: Record<string, string>
  key?: string
  signal?: AbortSignal
}

/** Checks of `mq.requester()` / `mq.responder()` options but `broker`, which the adapter declares. */
export const requestReplyOptionChecks: Record<Exclude<keyof RequestReplyOptions<unknown, unknown>, 'broker'>, OptionCheck> = {
  requestSchema: standardSchema(),
  responseSchema: standardSchema(),
  codec: codecCheck,
}

const requestOptionChecks: Record<keyof RequestOptions, OptionCheck> = {
  timeoutMs: integer(1),
  headers: stringRecord(),
  key: ofType('string'),
  signal: abortSignal(),
}

/** The queue requests travel on: no retries (the caller is waiting), no dead-letter queue. */
export function requestQueueSpec(name: string, broker: Record<string, unknown>): QueueSpec {
  return { name, ordered: false, deadLetter: false, maxAttempts: 1, broker }
}

/** One request waiting for its reply; settled exactly once, which undoes everything it set up. */
interface PendingRequest {
  /** Resolves with the reply; rejects on timeout, abort or close. */
  readonly reply: Promise<Delivery>
  fail(error: Error): void
}

/**
 * Sends requests to the responders of one name and waits for their replies, matched by correlation
 * id on the connection's reply inbox (one per connection, shared by every requester, opened on the
 * first request). Requesters are cheap: making one per call costs no broker resource. Many requests
 * may be in flight at once.
 */
export class Requester<Request = unknown, Response = unknown> {
  readonly name: string
  private readonly outgoing: OutgoingContext
  private readonly responseCodec
  private readonly pending = new Set<PendingRequest>()
  private closed = false

  constructor(
    private readonly runtime: Runtime,
    name: string,
    private readonly options: RequestReplyOptions<Request, Response> = {},
  ) {
    validateOptions(options, { ...requestReplyOptionChecks, broker: runtime.brokerOptionsCheck }, `requester('${name}') options`, runtime.adapter)
    validateName(runtime, name, 'requester')
    this.name = name
    this.responseCodec = resolveCodec(options.codec)
    this.outgoing = {
      adapter: runtime.adapter,
      capabilities: runtime.capabilities,
      codec: this.responseCodec,
      schema: options.requestSchema,
      where: `requests to '${name}'`,
    }
    runtime.declarations.declare('request-reply', name, {
      schema: options.requestSchema,
      responseSchema: options.responseSchema,
      contentType: this.responseCodec.contentType,
      sent: true,
    })
  }

  /**
   * Sends one request and resolves with the reply. Rejects with `RequestTimeoutError` when no reply
   * came within `timeoutMs` of this call (opening the connection's reply inbox on first use counts),
   * `RemoteError` when the responder threw, `AbortedError` when the signal fired, `ClosedError` when
   * the requester or its connection closed first. Whatever happens, the request's timer and abort
   * listener are gone when the promise settles.
   */
  async request(body: Request, options: RequestOptions = {}): Promise<Response> {
    const { adapter } = this.runtime
    if (this.closed) throw new ClosedError(`requester '${this.name}'`, { adapter })
    this.runtime.assertOpen()
    validateOptions(options, requestOptionChecks, 'request options', adapter)
    const timeoutMs = options.timeoutMs ?? 30_000
    const signal = options.signal
    if (signal?.aborted) throw new AbortedError(`request to '${this.name}'`, { adapter })
    const deadline = Date.now() + timeoutMs
    const correlationId = randomUUID()
    const pending = this.wait(correlationId, timeoutMs, signal)
    // Before the reply can exist, the pending promise can only reject: racing it bounds every step by the deadline.
    const failed = pending.reply as Promise<never>
    try {
      const replyTo = await Promise.race([this.runtime.replies.address(), failed])
      const message = await prepareOutgoing(body, { key: options.key, headers: options.headers, correlationId }, this.outgoing, {
        replyTo,
        headers: { [wireHeaders.expiresAt]: String(deadline) },
      })
      await Promise.race([this.runtime.publish({ kind: 'queue', queue: requestQueueSpec(this.name, this.options.broker ?? {}) }, [message], signal), failed])
    } catch (error) {
      pending.fail(error as Error)
      throw error
    }
    const delivery = await pending.reply
    const remoteError = delivery.message.headers[wireHeaders.replyError]
    if (remoteError !== undefined) {
      throw new RemoteError(this.name, remoteError, delivery.message.headers[wireHeaders.errorMessage] ?? '', { adapter })
    }
    const decoded = this.responseCodec.decode(delivery.message.body)
    return this.options.responseSchema ? validateBody(this.options.responseSchema, decoded, `reply from '${this.name}'`, adapter) : (decoded as Response)
  }

  /**
   * Rejects every request still waiting with `ClosedError` at once; later calls to `request()` reject
   * with `ClosedError` too. The connection's reply inbox stays open for its other requesters (it
   * closes with the connection). Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.runtime.untrack(this)
    const error = new ClosedError(`requester '${this.name}'`, { adapter: this.runtime.adapter })
    for (const pending of [...this.pending]) pending.fail(error)
  }

  /** Registers a waiting request: its reply route, deadline timer and abort listener, undone together. */
  private wait(correlationId: string, timeoutMs: number, signal: AbortSignal | undefined): PendingRequest {
    const { adapter } = this.runtime
    let settle!: (outcome: { delivery: Delivery } | { error: Error }) => void
    const reply = new Promise<Delivery>((resolve, reject) => {
      settle = (outcome) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        unroute()
        this.pending.delete(pending)
        if (this.pending.size === 0) this.runtime.untrack(this)
        if ('delivery' in outcome) resolve(outcome.delivery)
        else reject(outcome.error)
      }
    })
    reply.catch(() => {})
    let settled = false
    const once = (outcome: { delivery: Delivery } | { error: Error }) => {
      if (settled) return
      settled = true
      settle(outcome)
    }
    const timer = setTimeout(() => once({ error: new RequestTimeoutError(this.name, timeoutMs, { adapter }) }), timeoutMs)
    const onAbort = () => once({ error: new AbortedError(`request to '${this.name}'`, { adapter }) })
    signal?.addEventListener('abort', onAbort, { once: true })
    const unroute = this.runtime.replies.expect(correlationId, (delivery) => once({ delivery }))
    const pending: PendingRequest = { reply, fail: (error) => once({ error }) }
    this.pending.add(pending)
    // Tracked while it waits, so that closing the connection rejects its requests and clears their timers.
    this.runtime.track(this)
    return pending
  }
}
