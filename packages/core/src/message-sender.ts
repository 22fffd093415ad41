import { throwIfAborted } from './abortable.js'
import { type OptionCheck, validateOptions } from './options-validation.js'
import { assertFits, encodeOutgoing, type OutgoingContext, type PublishOptions, prepareOutgoing, type SendOptions } from './outgoing-message.js'
import type { Runtime } from './runtime.js'
import type { Destination, OutgoingMessage } from './spi/transport.js'

type Options = SendOptions & PublishOptions

/**
 * The send path shared by queues and topics: options checked, body validated and encoded, size and
 * capabilities checked, then one publish. A send started before `close()` is waited for by it.
 */
export class MessageSender {
  constructor(
    private readonly runtime: Runtime,
    private readonly destination: Destination,
    private readonly outgoing: OutgoingContext,
    private readonly checks: Record<string, OptionCheck>,
    private readonly verb: 'send' | 'publish',
  ) {}

  // Async methods rather than closures handed to the runtime: no closure or extra promise per send.
  one(body: unknown, options: Options): Promise<{ id: string }> {
    return this.outgoing.schema === undefined && this.outgoing.claimCheck === undefined ? this.oneAtOnce(body, options) : this.oneValidated(body, options)
  }

  /**
   * No schema to await, no blob store: encoded in place and published. Not an async function: the
   * transport's promise is chained once, where an async frame added its own promise and a suspension.
   */
  private oneAtOnce(body: unknown, options: Options): Promise<{ id: string }> {
    const runtime = this.runtime
    let message: OutgoingMessage
    try {
      runtime.enter('the connection')
    } catch (error) {
      return Promise.reject(error)
    }
    let published: Promise<void> | undefined
    try {
      if (hasOptions(options)) validateOptions(options, this.checks, `${this.verb} options`, runtime.adapter)
      message = encodeOutgoing(body, options, this.outgoing)
      if (runtime.storesAtOnce) runtime.publishNow(this.destination, message)
      else published = runtime.publish(this.destination, [message], options.signal)
    } catch (error) {
      runtime.leave()
      return Promise.reject(error)
    }
    if (published === undefined) {
      // Stored already: no array, no callbacks, no promise chained on the transport's.
      runtime.leave()
      return Promise.resolve({ id: message.id })
    }
    return published.then(
      () => {
        runtime.leave()
        return { id: message.id }
      },
      (error: unknown) => {
        runtime.leave()
        throw error
      },
    )
  }

  private async oneValidated(body: unknown, options: Options): Promise<{ id: string }> {
    this.runtime.enter('the connection')
    try {
      if (hasOptions(options)) validateOptions(options, this.checks, `${this.verb} options`, this.runtime.adapter)
      const encoded = this.outgoing.schema ? await prepareOutgoing(body, options, this.outgoing) : encodeOutgoing(body, options, this.outgoing)
      const message = this.outgoing.claimCheck === undefined ? encoded : (await this.offload([encoded]))[0]!
      await this.publish([message], options.signal)
      return { id: encoded.id }
    } finally {
      this.runtime.leave()
    }
  }

  /**
   * Every body is validated and encoded first: one bad body rejects the whole batch before anything is
   * sent. The batch's signal is the `signal` of `options` (the object, or the first call of the function).
   */
  async many<T>(bodies: readonly T[], options: Options | ((body: T, index: number) => Options)): Promise<{ ids: string[] }> {
    this.runtime.enter('the connection')
    try {
      // Without a schema nothing is asynchronous: encode in place instead of a promise per message.
      const prepare = this.outgoing.schema ? prepareOutgoing : encodeOutgoing
      let signal: AbortSignal | undefined
      let prepared: (OutgoingMessage | Promise<OutgoingMessage>)[]
      if (typeof options === 'function') {
        prepared = bodies.map((body, index) => {
          const each = options(body, index)
          if (index === 0) signal = each.signal
          if (hasOptions(each)) validateOptions(each, this.checks, `${this.verb}Batch options [${index}]`, this.runtime.adapter)
          return prepare(body, each, this.outgoing)
        })
      } else {
        // One options object for the whole batch: checked once, not once per message.
        signal = options.signal
        if (bodies.length > 0 && hasOptions(options)) validateOptions(options, this.checks, `${this.verb}Batch options [0]`, this.runtime.adapter)
        prepared = new Array(bodies.length)
        for (let index = 0; index < bodies.length; index++) prepared[index] = prepare(bodies[index], options, this.outgoing)
      }
      const encoded = this.outgoing.schema ? await Promise.all(prepared) : (prepared as OutgoingMessage[])
      throwIfAborted(signal, `${this.verb}Batch`, this.runtime.adapter)
      const messages = await this.offload(encoded)
      if (messages.length > 0) await this.publish(messages, signal)
      return { ids: messages.map((message) => message.id) }
    } finally {
      this.runtime.leave()
    }
  }

  /** Claim check: large bodies to the blob store, then the size check the encoder left to us. */
  private async offload(messages: OutgoingMessage[]): Promise<OutgoingMessage[]> {
    const claimCheck = this.outgoing.claimCheck
    if (claimCheck === undefined) return messages
    const offloaded: OutgoingMessage[] = []
    try {
      for (const message of messages) {
        const sent = await claimCheck.offload(message)
        offloaded.push(sent)
        assertFits(sent, this.outgoing)
      }
    } catch (error) {
      await claimCheck.discard(offloaded).catch(() => {})
      throw error
    }
    return offloaded
  }

  private async publish(messages: OutgoingMessage[], signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.runtime.publish(this.destination, messages, signal)
    } catch (error) {
      // Maybe not taken: the broker may still have it (a lost confirm), so the bodies are not deleted now but
      // left to expire like a dead letter's, which sweepClaimChecks removes.
      await this.outgoing.claimCheck?.expire(messages).catch(() => {})
      throw error
    }
  }
}

/** Whether an options object has any key to check: the usual `{}` costs no validation pass. */
function hasOptions(options: object): boolean {
  for (const _ in options) return true
  return typeof options !== 'object' || options === null || Array.isArray(options)
}
