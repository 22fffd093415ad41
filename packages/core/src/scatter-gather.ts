import { randomUUID } from 'node:crypto'
import { resolveCodec } from './codec.js'
import { AbortedError, AnymqError, ClosedError, ConfigError, PublishError, RemoteError } from './errors.js'
import { abortSignal, either, integer, type OptionCheck, ofType, oneOf, stringRecord, validateOptions } from './options-validation.js'
import { type OutgoingContext, prepareOutgoing } from './outgoing-message.js'
import { validateName } from './queue.js'
import { type RequestReplyOptions, requestQueueSpec, requestReplyOptionChecks } from './requester.js'
import type { Runtime } from './runtime.js'
import { validateBody } from './schema.js'
import type { Delivery, Destination } from './spi/transport.js'
import { wireHeaders } from './spi/wire-headers.js'

/**
 * Where a scatter-gather sends its request.
 * - `{ queues }`: one request to each named responder (`mq.responder(name).serve()`); each queue is one responder.
 * - `{ topic, responders? }`: one request published to a topic; every subscription of a
 *   `mq.topicResponder(topic, name)` answers once, named by its subscription name. `responders` lists
 *   the names you expect, so that `expect: 'all'` can finish early and missing ones can be named.
 */
export type GatherTarget = { queues: readonly string[] } | { topic: string; responders?: readonly string[] }

/** Options of one `gather()` call. */
export interface GatherOptions<Response, Aggregate> {
  /**
   * When the gather is complete: `'all'` (default) when every known responder answered (a reply or an
   * error); a number when that many replies succeeded; `'any'` whoever answers until the deadline.
   * Every form also ends once every known responder answered.
   */
  expect?: number | 'all' | 'any'
  /** The deadline: after this long the gather resolves with what it has. Default 30 000 ms. */
  timeoutMs?: number
  /** Combines the successful replies into `result.aggregate`; runs once, when the gather ends. */
  aggregate?: (replies: readonly GatherReply<Response>[]) => Aggregate
  headers?: Record<string, string>
  key?: string
  /** Aborting rejects the gather with `AbortedError`. */
  signal?: AbortSignal
}

/** A successful reply and the responder it came from. */
export interface GatherReply<Response> {
  readonly responder: string
  readonly response: Response
}

/** A responder that answered with an error (`RemoteError`), an invalid reply (`ValidationError`), or could not be sent to (`PublishError`). */
export interface GatherFailure {
  readonly responder: string
  readonly error: AnymqError
}

/** What a gather collected. Replies and errors are kept apart; each responder appears at most once. */
export interface GatherResult<Response, Aggregate = undefined> {
  /** Successful replies, in the order they arrived. */
  readonly replies: readonly GatherReply<Response>[]
  /** Responders that failed, in the order they answered. */
  readonly errors: readonly GatherFailure[]
  /** Known responders (the target's queues, or `responders` of a topic target) that did not answer by the end. */
  readonly missing: readonly string[]
  /** True when the deadline ended the gather before its expectation was met (always so for `'any'` with unnamed responders). */
  readonly timedOut: boolean
  /** The `aggregate` function's result over `replies`; `undefined` without one. */
  readonly aggregate: Aggregate
}

const gatherOptionChecks: Record<keyof GatherOptions<unknown, unknown>, OptionCheck> = {
  expect: either(integer(1), oneOf('all', 'any')),
  timeoutMs: integer(1),
  aggregate: ofType('function'),
  headers: stringRecord(),
  key: ofType('string'),
  signal: abortSignal(),
}

interface Answer {
  responder: string | undefined
  delivery: Delivery
}

/**
 * Scatter-gather: sends one request to many responders and gathers their replies until the
 * expectation is met or the deadline passes. Never rejects because a responder failed or stayed
 * silent: that is in the result. Rejects only with `ConfigError` (bad options), `AbortedError`,
 * `ClosedError`, or a `PublishError` of the topic publish. Replies come back on the connection's reply
 * inbox (shared with its requesters); late and duplicate replies are dropped.
 */
export class ScatterGather<Request = unknown, Response = unknown> {
  private readonly outgoing: OutgoingContext
  private readonly responseCodec
  /** Fails each running gather with `ClosedError`. */
  private readonly running = new Set<() => void>()
  private closed = false

  constructor(
    private readonly runtime: Runtime,
    private readonly target: GatherTarget,
    private readonly options: RequestReplyOptions<Request, Response> = {},
  ) {
    validateOptions(options, { ...requestReplyOptionChecks, broker: runtime.brokerOptionsCheck }, 'scatterGather() options', runtime.adapter)
    if ('queues' in target) {
      if (!Array.isArray(target.queues) || target.queues.length === 0 || new Set(target.queues).size !== target.queues.length)
        throw new ConfigError([{ field: 'queues', message: 'expected a non-empty list of distinct responder names' }], { adapter: runtime.adapter })
      for (const name of target.queues) validateName(runtime, name, 'responder')
    } else {
      validateName(runtime, target.topic, 'topic')
      for (const name of target.responders ?? []) validateName(runtime, name, 'subscription')
    }
    this.responseCodec = resolveCodec(options.codec)
    this.outgoing = {
      adapter: runtime.adapter,
      capabilities: runtime.capabilities,
      codec: this.responseCodec,
      schema: options.requestSchema,
      where: 'queues' in target ? `scatter-gather to ${target.queues.length} responders` : `scatter-gather on topic '${target.topic}'`,
    }
    runtime.track(this)
  }

  /** Sends the request to every responder of the target and resolves with what came back; see {@link GatherResult}. */
  async gather<Aggregate = undefined>(body: Request, options: GatherOptions<Response, Aggregate> = {}): Promise<GatherResult<Response, Aggregate>> {
    if (this.closed) throw new ClosedError('scatter-gather', { adapter: this.runtime.adapter })
    this.runtime.assertOpen()
    validateOptions(options, gatherOptionChecks, 'gather options', this.runtime.adapter)
    const known = 'queues' in this.target ? [...this.target.queues] : [...(this.target.responders ?? [])]
    const expectation = options.expect ?? 'all'
    if (expectation === 'all' && known.length === 0)
      throw new ConfigError([{ field: 'expect', message: "'all' needs the target's responders to be named; name them, or expect a number or 'any'" }], {
        adapter: this.runtime.adapter,
      })
    if (typeof expectation === 'number' && 'queues' in this.target && expectation > known.length)
      throw new ConfigError([{ field: 'expect', message: `expects ${expectation} replies from ${known.length} responders` }], { adapter: this.runtime.adapter })
    const timeoutMs = options.timeoutMs ?? 30_000
    const signal = options.signal
    if (signal?.aborted) throw new AbortedError('scatter-gather', { adapter: this.runtime.adapter })

    const replyTo = await this.runtime.replies.address()
    if (this.closed) throw new ClosedError('scatter-gather', { adapter: this.runtime.adapter })
    const gatherId = randomUUID()
    // One correlation id per queue tells us which queue answered; on a topic the responder names itself.
    const sends: { destination: Destination; correlationId: string; responder: string | undefined }[] =
      'queues' in this.target
        ? this.target.queues.map((queue, index) => ({
            destination: { kind: 'queue', queue: requestQueueSpec(queue, this.options.broker ?? {}) },
            correlationId: `${gatherId}.${index}`,
            responder: queue,
          }))
        : [{ destination: { kind: 'topic', topic: this.target.topic }, correlationId: gatherId, responder: undefined }]

    const replies: GatherReply<Response>[] = []
    const errors: GatherFailure[] = []
    const answered = new Set<string>()
    let finish: (timedOut: boolean) => void = () => {}
    let fail: (error: Error) => void = () => {}
    const ended = new Promise<boolean>((resolve, reject) => {
      finish = resolve
      fail = reject
    })
    // An abort or close during the sends is reported by the sends' own rejection; nothing else awaits it then.
    ended.catch(() => {})
    const met = () => {
      if (known.length > 0 && known.every((name) => answered.has(name))) return true
      return typeof expectation === 'number' && replies.length >= expectation
    }
    const record = (responder: string, outcome: { response: Response } | { error: AnymqError }) => {
      if (answered.has(responder)) return
      answered.add(responder)
      if ('error' in outcome) errors.push({ responder, error: outcome.error })
      else replies.push({ responder, response: outcome.response })
      if (met()) finish(false)
    }
    const onAnswer = ({ responder, delivery }: Answer) => {
      if (responder === undefined) return
      void this.decode(responder, delivery).then(
        (outcome) => record(responder, outcome),
        (error: unknown) => this.runtime.logger.error(`scatter-gather: reply from '${responder}' could not be read`, { error }),
      )
    }
    const unroutes = sends.map((send) =>
      this.runtime.replies.expect(send.correlationId, (delivery) =>
        onAnswer({ responder: send.responder ?? delivery.message.headers[wireHeaders.responder], delivery }),
      ),
    )
    const closing = () => fail(new ClosedError('scatter-gather', { adapter: this.runtime.adapter }))
    this.running.add(closing)
    const timer = setTimeout(() => finish(true), timeoutMs)
    const onAbort = () => fail(new AbortedError('scatter-gather', { adapter: this.runtime.adapter }))
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const expiresAt = String(Date.now() + timeoutMs)
      await Promise.all(
        sends.map(async (send) => {
          const message = await prepareOutgoing(body, { key: options.key, headers: options.headers, correlationId: send.correlationId }, this.outgoing, {
            replyTo,
            headers: { [wireHeaders.expiresAt]: expiresAt },
          })
          try {
            await this.runtime.publish(send.destination, [message], signal)
          } catch (error) {
            // A queue that cannot be reached is that responder's failure; a topic that cannot is the gather's.
            if (send.responder === undefined) throw error
            record(send.responder, {
              error:
                error instanceof AnymqError
                  ? error
                  : new PublishError(`could not send to '${send.responder}'`, { adapter: this.runtime.adapter, cause: error }),
            })
          }
        }),
      )
      const timedOut = await ended
      return {
        replies: [...replies],
        errors: [...errors],
        missing: known.filter((name) => !answered.has(name)),
        timedOut,
        aggregate: (options.aggregate ? options.aggregate([...replies]) : undefined) as Aggregate,
      }
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      for (const unroute of unroutes) unroute()
      this.running.delete(closing)
    }
  }

  /** Gathers still running reject with `ClosedError`, later ones too; the connection's reply inbox stays open. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.runtime.untrack(this)
    for (const closing of [...this.running]) closing()
  }

  private async decode(responder: string, delivery: Delivery): Promise<{ response: Response } | { error: AnymqError }> {
    const headers = delivery.message.headers
    const remoteError = headers[wireHeaders.replyError]
    if (remoteError !== undefined)
      return { error: new RemoteError(responder, remoteError, headers[wireHeaders.errorMessage] ?? '', { adapter: this.runtime.adapter }) }
    try {
      const decoded = this.responseCodec.decode(delivery.message.body)
      const response = this.options.responseSchema
        ? await validateBody(this.options.responseSchema, decoded, `reply from '${responder}'`, this.runtime.adapter)
        : (decoded as Response)
      return { response }
    } catch (error) {
      if (error instanceof AnymqError) return { error }
      throw error
    }
  }
}
