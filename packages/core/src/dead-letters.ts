import { abortable, throwIfAborted } from './abortable.js'
import { adminFor } from './admin-access.js'
import type { ClaimCheck } from './claim-check.js'
import { type Codec, unsharedBytes } from './codec.js'
import { deadLetterSpec } from './consumer-engine.js'
import { ConfigError } from './errors.js'
import type { DeadLetter } from './message.js'
import { abortSignal, anything, integer, ofType, stringRecord, validateOptions } from './options-validation.js'
import type { Runtime } from './runtime.js'
import { type StandardSchemaV1, validateBody } from './schema.js'
import { describeDestination, republishCopy } from './spi/republish-retry.js'
import type { Destination, IncomingMessage } from './spi/transport.js'
import { isReservedHeader, userHeaders, wireHeaders } from './spi/wire-headers.js'

/** The dead-letter queue of one queue or subscription: look at what failed, and send it back. */
export class DeadLetters<T> {
  constructor(
    private readonly runtime: Runtime,
    private readonly queueName: string | undefined,
    private readonly home: Destination,
    private readonly codec: Codec<unknown>,
    private readonly claimCheck?: ClaimCheck,
    /** The queue's or topic's schema: an edited body must pass it, as a sent one does. */
    private readonly schema?: StandardSchemaV1<unknown, T>,
  ) {}

  /** The dead-letter queue's name. */
  get name(): string {
    return this.require()
  }

  /**
   * Up to `limit` dead letters, oldest first, without removing them. Rejects with `AbortedError` as
   * soon as `options.signal` aborts (nothing is taken, so nothing needs undoing).
   */
  async peek(limit = 10, options: { signal?: AbortSignal } = {}): Promise<DeadLetter<T>[]> {
    this.runtime.assertOpen()
    validateOptions(options, { signal: abortSignal() }, 'peek options', this.runtime.adapter)
    const what = `peeking at dead letters of ${describeDestination(this.home)}`
    throwIfAborted(options.signal, what, this.runtime.adapter)
    const messages = await abortable(this.runtime.transport.peek(deadLetterSpec(this.require()), limit), options.signal, what, this.runtime.adapter)
    return Promise.all(messages.map(async (message) => this.describe(message, this.claimCheck ? await this.claimCheck.bodyOf(message) : message.body)))
  }

  /**
   * Moves dead letters back to where they failed, as fresh messages (attempt 1, failure record
   * cleared). Each is removed from the dead-letter queue only after its home has it. Resolves with
   * how many moved. When `options.signal` aborts, no further message is moved (what already moved
   * stays moved) and it rejects with `AbortedError`.
   */
  async redrive(options: { limit?: number; signal?: AbortSignal } = {}): Promise<number> {
    this.runtime.assertOpen()
    validateOptions(options, { limit: integer(0), signal: abortSignal() }, 'redrive options', this.runtime.adapter)
    const { signal } = options
    const what = `redriving dead letters to ${describeDestination(this.home)}`
    throwIfAborted(signal, what, this.runtime.adapter)
    const moving = this.runtime.transport.move(deadLetterSpec(this.require()), this.home, options.limit ?? Number.POSITIVE_INFINITY, (message) => {
      // Every adapter prepares a message before it sends it: refusing here stops the move between messages.
      throwIfAborted(signal, what, this.runtime.adapter)
      // The failure record goes; a claim-check reference stays, or the redriven message would lose its body.
      const headers = Object.fromEntries(Object.entries(message.headers).filter(([name]) => !isReservedHeader(name) || name === wireHeaders.claimCheck))
      return republishCopy(message, { headers, attempt: 1 })
    })
    return abortable(moving, signal, what, this.runtime.adapter)
  }

  /**
   * Moves the dead letter with this id back to where it failed, as a fresh message (attempt 1, failure
   * record cleared), leaving every other dead letter where it is. It leaves the dead-letter queue only
   * after its home has it. Resolves `false` when no waiting dead letter has this id. Needs `admin.deadLetterById`.
   */
  redriveOne(id: string): Promise<boolean> {
    return this.takeOne(id, 'redriveOne()', async (message) => {
      await this.runtime.publish(this.home, [republishCopy(message, { headers: this.cleared(message.headers), attempt: 1 })])
    })
  }

  /** Deletes the dead letter with this id for good, leaving every other one. Resolves `false` when none has it. Needs `admin.deadLetterById`. */
  deleteOne(id: string): Promise<boolean> {
    return this.takeOne(id, 'deleteOne()', async () => {})
  }

  /**
   * Redrives the dead letter with this id after changing it: `body` replaces the body (encoded with the
   * queue's codec), `headers` replace the user headers. Same guarantees as {@link redriveOne}; an edited
   * body the codec cannot encode rejects with `SerializationError` and the dead letter stays.
   */
  async editAndRedrive(id: string, edit: { body?: T; headers?: Record<string, string> }): Promise<boolean> {
    validateOptions(edit, { body: anything, headers: stringRecord() }, 'editAndRedrive edit', this.runtime.adapter)
    let value: unknown = edit.body
    if ('body' in edit && this.schema)
      value = await validateBody(this.schema, edit.body, `edited body for ${describeDestination(this.home)}`, this.runtime.adapter)
    const body = 'body' in edit ? unsharedBytes(this.codec, this.codec.encode(value)) : undefined
    return this.takeOne(id, 'editAndRedrive()', async (message) => {
      // A new body travels inline, so a claim-check reference to the old one must not come along.
      const headers = edit.headers ? { ...edit.headers } : this.cleared(message.headers, body === undefined)
      const copy = republishCopy(message, { headers, attempt: 1 })
      await this.runtime.publish(this.home, [body === undefined ? copy : { ...copy, body }])
    })
  }

  private async takeOne(id: string, call: string, handle: (message: IncomingMessage) => Promise<void>): Promise<boolean> {
    validateOptions({ id }, { id: ofType('string') }, `${call} id`, this.runtime.adapter)
    const admin = adminFor(this.runtime, 'deadLetterById', `deadLetters().${call}`)
    return admin.takeById(deadLetterSpec(this.require()), id, handle)
  }

  /** Headers of a dead letter without anymq's failure record, as a redriven message carries them (with its claim-check reference, if kept). */
  private cleared(headers: Record<string, string>, keepClaimCheck = true): Record<string, string> {
    return Object.fromEntries(Object.entries(headers).filter(([name]) => !isReservedHeader(name) || (keepClaimCheck && name === wireHeaders.claimCheck)))
  }

  private require(): string {
    if (this.queueName === undefined)
      throw new ConfigError(
        [
          {
            field: 'deadLetter',
            message: 'this queue was created with deadLetter: false, so it has no dead letters',
          },
        ],
        { adapter: this.runtime.adapter },
      )
    return this.queueName
  }

  private describe(message: IncomingMessage, rawBody: Uint8Array): DeadLetter<T> {
    let body: T | undefined
    try {
      body = this.codec.decode(rawBody) as T
    } catch {
      body = undefined
    }
    const headers = message.headers
    const time = (name: string) => (headers[name] ? new Date(Number(headers[name])) : undefined)
    return {
      id: message.id,
      body,
      rawBody,
      headers: userHeaders(headers),
      key: message.key,
      error: {
        name: headers[wireHeaders.errorName] ?? 'Error',
        message: headers[wireHeaders.errorMessage] ?? '',
      },
      attempts: Number(headers[wireHeaders.attempts] ?? message.attempt),
      firstFailureAt: time(wireHeaders.firstFailureAt),
      lastFailureAt: time(wireHeaders.lastFailureAt),
      source: headers[wireHeaders.source],
      timestamp: new Date(message.timestamp),
    }
  }
}
