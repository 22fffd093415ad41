import type { Logger } from '@anymq/core/spi'
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib'
import type { RabbitConnection } from './rabbitmq-connection.js'
import { connectionError, NotRoutedError, publishError, wrapPublishError } from './rabbitmq-errors.js'
import { type FrameWriter, frameWriter } from './rabbitmq-frame-writer.js'
import { MandatoryPublishes } from './rabbitmq-mandatory-publishes.js'
import type { PublishProperties } from './rabbitmq-publish-frame.js'

/** One message ready for the wire. */
export interface Outbound {
  exchange: string
  routingKey: string
  content: Buffer
  options: PublishProperties
  /** For errors: `queue 'orders'`. */
  where: string
}

interface Pending {
  message: Outbound
  returned: string | undefined
}

interface PublishChannel {
  model: ChannelModel
  channel: ConfirmChannel
  /** Writes a publish's frames in one buffer; `undefined` when amqplib's shape is not the known one. */
  write: FrameWriter | undefined
  /**
   * Mandatory publishes waiting for their confirm, oldest first. Searched rather than keyed by routing
   * key and id: returns are rare, so the search on one is cheaper than a key string per publish.
   */
  mandatory: MandatoryPublishes<Pending>
  closed: Promise<void>
  isClosed: boolean
  /** Why the broker closed the channel (e.g. 404 for an exchange that does not exist). */
  closeError: Error | undefined
}

/**
 * Publishes on one confirm channel per connection. Confirms are pipelined: a batch is written in one
 * go (pausing only when the socket buffer is full) and the call resolves when the broker confirmed
 * every message. A message returned as unroutable (mandatory) or nacked rejects with `PublishError`;
 * a channel or connection lost before its confirm rejects with a retryable `ConnectionError` (amqplib
 * settles every outstanding confirm on close), so nothing is ever left hanging.
 */
export class RabbitPublisher {
  private current: Promise<PublishChannel> | undefined
  /** What `current` resolved to, once it did. */
  private opened: PublishChannel | undefined

  constructor(
    private readonly connection: RabbitConnection,
    private readonly logger: Logger,
  ) {}

  publish(messages: readonly Outbound[], signal?: AbortSignal): Promise<void> {
    // The channel already open on the current connection is taken without an await on every publish.
    const opened = this.opened
    const open = opened !== undefined && !opened.isClosed && opened.model === this.connection.current ? opened : undefined
    if (open !== undefined && messages.length === 1) return publishOne(open, messages[0] as Outbound)
    return this.publishMany(open, messages, signal)
  }

  private async publishMany(open: PublishChannel | undefined, messages: readonly Outbound[], signal?: AbortSignal): Promise<void> {
    const target = open ?? (await this.channel(signal))
    if (messages.length === 0) return
    // One promise for the whole call, settled by a count of confirms, rather than a promise (and a
    // handler against unhandled rejections) per message and an allSettled over them.
    let unconfirmed = messages.length
    let failure: Error | undefined
    let allConfirmed!: () => void
    const confirmed = new Promise<void>((resolve) => {
      allConfirmed = resolve
    })
    const settle = (error: Error | undefined, count = 1): void => {
      if (error !== undefined && failure === undefined) failure = error
      unconfirmed -= count
      if (unconfirmed === 0) allConfirmed()
    }
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index] as Outbound
      if (target.isClosed) {
        // Nothing more is written: the rest fail with this, once what was written is confirmed or failed.
        settle(connectionError(`${message.where}: the channel closed before the message was sent`), messages.length - index)
        break
      }
      const written = writeOne(target, message, settle)
      if (!written) await Promise.race([new Promise((resolve) => target.channel.once('drain', resolve)), target.closed])
    }
    await confirmed
    if (failure !== undefined) throw failure
  }

  /** Waits for every publish written so far to be confirmed. */
  async flush(): Promise<void> {
    const current = await this.current?.catch(() => undefined)
    if (current && !current.isClosed) await current.channel.waitForConfirms().catch(() => {})
  }

  private async channel(signal?: AbortSignal): Promise<PublishChannel> {
    for (;;) {
      const model = await this.connection.ready(signal)
      const current = this.current
      if (current) {
        const state = await current.catch(() => undefined)
        if (state && state.model === model && !state.isClosed) return state
        // Someone else replaced it while we waited: look again.
        if (this.current !== current) continue
      }
      const opening = this.open(model)
      this.current = opening
      opening.catch(() => {
        if (this.current === opening) this.current = undefined
      })
      try {
        const state = await opening
        this.opened = state
        return state
      } catch (error) {
        throw connectionError(`cannot open a publishing channel: ${(error as Error).message}`, error)
      }
    }
  }

  private async open(model: ChannelModel): Promise<PublishChannel> {
    const channel = await model.createConfirmChannel()
    let markClosed!: () => void
    const state: PublishChannel = {
      model,
      channel,
      write: frameWriter(channel),
      mandatory: new MandatoryPublishes(),
      closed: new Promise<void>((resolve) => {
        markClosed = resolve
      }),
      isClosed: false,
      closeError: undefined,
    }
    channel.on('error', (error: Error) => {
      state.closeError = error
      this.logger.warn(`rabbitmq publishing channel: ${error.message}`)
    })
    channel.on('handler-error', (error: Error) => this.logger.error(`rabbitmq: a publishing channel handler threw: ${error.message}`))
    channel.on('close', () => {
      state.isClosed = true
      markClosed()
    })
    // The broker sends basic.return before the basic.ack of the same message.
    channel.on('return', (returned: Message) => {
      const pending = state.mandatory.find(
        (candidate) =>
          candidate.returned === undefined &&
          candidate.message.routingKey === returned.fields.routingKey &&
          candidate.message.options.messageId === returned.properties.messageId,
      )
      const reason = (returned.fields as { replyText?: string }).replyText ?? 'NO_ROUTE'
      if (pending) pending.returned = `${reason}: no queue named '${returned.fields.routingKey}'`
    })
    return state
  }
}

/**
 * One message on an open channel, the usual `send`: a promise settled straight from its confirm, without
 * the count, the shared promise and the async frame a batch needs. No wait for `drain`: nothing else is
 * written after it, and the confirm it waits for comes only once amqplib has written it, or the channel
 * closed (amqplib then fails every confirm).
 */
function publishOne(target: PublishChannel, message: Outbound): Promise<void> {
  return new Promise((resolve, reject) => {
    writeOne(target, message, (failure) => (failure === undefined ? resolve() : reject(failure)))
  })
}

/**
 * Writes one message (the frame writer where amqplib's shape is the known one) and calls `outcome` once:
 * with what its confirm means (`undefined`: the broker took it), or at once when writing threw. Returns
 * amqplib's `written`: `false` asks the caller to wait for `drain` before writing more.
 */
function writeOne(target: PublishChannel, message: Outbound, outcome: (failure: Error | undefined) => void): boolean {
  const pending: Pending = { message, returned: undefined }
  const ticket = message.options.mandatory === true ? target.mandatory.add(pending) : -1
  const confirmed = (error: unknown) => {
    if (ticket >= 0) target.mandatory.remove(ticket)
    outcome(confirmFailure(target, pending, error))
  }
  try {
    return (
      target.write?.(message.exchange, message.routingKey, message.content, message.options, confirmed) ??
      target.channel.publish(message.exchange, message.routingKey, message.content, message.options, confirmed)
    )
  } catch (error) {
    if (ticket >= 0) target.mandatory.remove(ticket)
    outcome(wrapPublishError(message.where, error))
    return true
  }
}

/** What a confirm callback's outcome means for its message: `undefined` when the broker took it. */
function confirmFailure(target: PublishChannel, pending: Pending, error: unknown): Error | undefined {
  const where = pending.message.where
  if (error) return isNack(error) ? publishError(`${where}: the broker refused the message (nack)`, error) : wrapPublishError(where, target.closeError ?? error)
  if (pending.returned !== undefined)
    return publishError(`${where}: the broker could not route the message (${pending.returned})`, new NotRoutedError(pending.returned))
  return undefined
}

function isNack(error: unknown): boolean {
  return error instanceof Error && /nack/i.test(error.message)
}
