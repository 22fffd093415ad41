import { randomUUID } from 'node:crypto'
import { type CodecOption, codecCheck, resolveCodec } from './codec.js'
import { AbortedError, ClosedError, RemoteError, RequestTimeoutError } from './errors.js'
import { abortSignal, integer, type OptionCheck, ofType, standardSchema, stringRecord, validateOptions } from './options-validation.js'
import { type OutgoingContext, prepareOutgoing } from './outgoing-message.js'
import { validateName } from './queue.js'
import type { Runtime } from './runtime.js'
import { type StandardSchemaV1, validateBody } from './schema.js'
import type { Delivery, Inbox, QueueSpec } from './spi/transport.js'
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

interface PendingRequest {
  resolve(delivery: Delivery): void
}

/**
 * Sends requests to the responders of one name and waits for their replies, matched by correlation id
 * on a private inbox opened on first use. Many requests may be in flight at once.
 */
export class Requester<Request = unknown, Response = unknown> {
  readonly name: string
  private readonly outgoing: OutgoingContext
  private readonly responseCodec
  private inbox: Promise<Inbox> | undefined
  private readonly pending = new Map<string, PendingRequest>()
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
    runtime.track(this)
  }

  /** Sends one request and resolves with the reply; `RequestTimeoutError`, `RemoteError` or `AbortedError` otherwise. */
  async request(body: Request, options: RequestOptions = {}): Promise<Response> {
    if (this.closed)
      throw new ClosedError(`requester '${this.name}'`, {
        adapter: this.runtime.adapter,
      })
    this.runtime.assertOpen()
    validateOptions(options, requestOptionChecks, 'request options', this.runtime.adapter)
    const timeoutMs = options.timeoutMs ?? 30_000
    const signal = options.signal
    if (signal?.aborted)
      throw new AbortedError(`request to '${this.name}'`, {
        adapter: this.runtime.adapter,
      })
    const inbox = await this.openInbox()
    const correlationId = randomUUID()
    const message = await prepareOutgoing(body, { key: options.key, headers: options.headers, correlationId }, this.outgoing, {
      replyTo: inbox.address,
      headers: { [wireHeaders.expiresAt]: String(Date.now() + timeoutMs) },
    })
    const reply = new Promise<Delivery>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId)
        reject(
          new RequestTimeoutError(this.name, timeoutMs, {
            adapter: this.runtime.adapter,
          }),
        )
      }, timeoutMs)
      const onAbort = () => {
        clearTimeout(timer)
        this.pending.delete(correlationId)
        reject(
          new AbortedError(`request to '${this.name}'`, {
            adapter: this.runtime.adapter,
          }),
        )
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.pending.set(correlationId, {
        resolve: (delivery) => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          this.pending.delete(correlationId)
          resolve(delivery)
        },
      })
    })
    reply.catch(() => {})
    try {
      await this.runtime.publish(
        {
          kind: 'queue',
          queue: requestQueueSpec(this.name, this.options.broker ?? {}),
        },
        [message],
        signal,
      )
    } catch (error) {
      this.pending.delete(correlationId)
      throw error
    }
    const delivery = await reply
    const remoteError = delivery.message.headers[wireHeaders.replyError]
    if (remoteError !== undefined) {
      throw new RemoteError(this.name, remoteError, delivery.message.headers[wireHeaders.errorMessage] ?? '', { adapter: this.runtime.adapter })
    }
    const decoded = this.responseCodec.decode(delivery.message.body)
    return this.options.responseSchema
      ? validateBody(this.options.responseSchema, decoded, `reply from '${this.name}'`, this.runtime.adapter)
      : (decoded as Response)
  }

  /** Closes the inbox; requests still waiting reject with `ClosedError`. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.runtime.untrack(this)
    this.pending.clear()
    const inbox = await this.inbox?.catch(() => undefined)
    await inbox?.close()
  }

  private openInbox(): Promise<Inbox> {
    if (!this.inbox) {
      this.inbox = this.runtime.transport.openInbox(
        {
          prefetch: 1000,
          leaseMs: undefined,
          onError: (error) => this.runtime.logger.error(`requester('${this.name}') inbox: ${error.message}`, { error }),
        },
        (delivery) => {
          void delivery.ack().catch(() => {})
          const correlationId = delivery.message.correlationId
          const waiting = correlationId === undefined ? undefined : this.pending.get(correlationId)
          if (waiting) waiting.resolve(delivery)
          else this.runtime.logger.debug(`requester('${this.name}'): dropped a reply nobody waits for (late or duplicate)`)
        },
      )
      this.inbox.catch(() => {
        this.inbox = undefined
      })
    }
    return this.inbox
  }
}
