import type { Codec } from './codec.js'
import { deadLetterSpec } from './consumer-engine.js'
import { ConfigError } from './errors.js'
import type { DeadLetter } from './message.js'
import type { Runtime } from './runtime.js'
import { toOutgoing } from './spi/republish-retry.js'
import type { Destination, IncomingMessage } from './spi/transport.js'
import { isReservedHeader, userHeaders, wireHeaders } from './spi/wire-headers.js'

/** The dead-letter queue of one queue or subscription: look at what failed, and send it back. */
export class DeadLetters<T> {
  constructor(
    private readonly runtime: Runtime,
    private readonly queueName: string | undefined,
    private readonly home: Destination,
    private readonly codec: Codec<unknown>,
  ) {}

  /** The dead-letter queue's name. */
  get name(): string {
    return this.require()
  }

  /** Up to `limit` dead letters, oldest first, without removing them. */
  async peek(limit = 10): Promise<DeadLetter<T>[]> {
    this.runtime.assertOpen()
    const messages = await this.runtime.transport.peek(deadLetterSpec(this.require()), limit)
    return messages.map((message) => this.describe(message))
  }

  /**
   * Moves dead letters back to where they failed, as fresh messages (attempt 1, failure record
   * cleared). Each is removed from the dead-letter queue only after its home has it. Resolves with
   * how many moved.
   */
  async redrive(options: { limit?: number } = {}): Promise<number> {
    this.runtime.assertOpen()
    return this.runtime.transport.move(deadLetterSpec(this.require()), this.home, options.limit ?? Number.POSITIVE_INFINITY, (message) => {
      const fresh = toOutgoing(message)
      fresh.headers = Object.fromEntries(Object.entries(message.headers).filter(([name]) => !isReservedHeader(name)))
      fresh.attempt = 1
      return fresh
    })
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

  private describe(message: IncomingMessage): DeadLetter<T> {
    let body: T | undefined
    try {
      body = this.codec.decode(message.body) as T
    } catch {
      body = undefined
    }
    const headers = message.headers
    const time = (name: string) => (headers[name] ? new Date(Number(headers[name])) : undefined)
    return {
      id: message.id,
      body,
      rawBody: message.body,
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
