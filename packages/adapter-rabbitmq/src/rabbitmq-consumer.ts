import {
  type Delivery,
  type Logger,
  type OutgoingMessage,
  retryCopy,
  settlesWithin,
  type TransportConsumeOptions,
  type TransportConsumer,
  UnsupportedFeatureError,
} from '@anymq/core/spi'
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib'
import { RabbitAckBatch } from './rabbitmq-ack-batch.js'
import { type RabbitConnection, type Recoverable, retryWhileReconnecting } from './rabbitmq-connection.js'
import { adapterName, connectionError } from './rabbitmq-errors.js'
import { toIncoming } from './rabbitmq-message.js'

export interface ConsumerSource {
  /** Declares what the source needs and returns the queue to consume; run on every (re)start. */
  prepare(): Promise<string>
  /** Publishes a retry copy back to the source (through a delay queue when it has a delay). */
  republish(message: OutgoingMessage): Promise<void>
  /** For errors and logs. */
  describe: string
  /** Forgets what `prepare` declared, so that the next one declares it again (the broker cancelled the consumer: its queue may be deleted). */
  forget?: () => void
  /** Runs once after the consumer closed (e.g. deletes a reply inbox). */
  cleanup?: () => Promise<void>
  /**
   * The queue has a single active consumer (`ordered: true`): cancelling hands it to a standby at once.
   * Such a consumer stops by holding what arrives instead (see {@link RabbitConsumer.stop}).
   */
  singleActive?: boolean
}

interface Attached {
  model: ChannelModel
  channel: Channel
  consumerTag: string
  closed: boolean
  acks: RabbitAckBatch
}

/** The longest stop and close wait for the broker to answer a cancel, or the acks and close of the channel. */
const answerWaitMs = 5_000

/**
 * One consumer on a channel of its own, with `prefetch` unacked deliveries at most. When its channel
 * or connection is lost, the broker requeues what it held (settling those deliveries later does
 * nothing) and the consumer attaches again by itself: on the new connection, or after a pause when
 * only the channel was closed (a consumer timeout, a deleted queue).
 */
export class RabbitConsumer implements TransportConsumer, Recoverable {
  private state: 'running' | 'stopped' | 'closed' = 'running'
  /** The broker left a cancel unanswered past `answerWaitMs` (see `stop`). */
  private unanswered = false
  private attached: Attached | undefined
  private attaching: Promise<void> | undefined
  private restartTimer: NodeJS.Timeout | undefined
  private restartAttempt = 0
  private unregister: () => void = () => {}

  constructor(
    private readonly connection: RabbitConnection,
    private readonly logger: Logger,
    private readonly source: ConsumerSource,
    private readonly options: TransportConsumeOptions,
    private readonly deliver: (delivery: Delivery) => void,
    private readonly reconnectWaitMs: number,
  ) {}

  /** Attaches for the first time; rejects (and leaves nothing behind) when that fails. */
  async start(): Promise<void> {
    this.unregister = this.connection.register(this)
    try {
      await retryWhileReconnecting(this.connection, this.reconnectWaitMs, async () => this.attach(await this.connection.ready()))
    } catch (error) {
      this.state = 'closed'
      this.unregister()
      // The queue may have been declared before consuming failed (a reply inbox): remove it.
      await this.source.cleanup?.().catch(() => {})
      throw error
    }
  }

  async recover(model: ChannelModel): Promise<void> {
    if (this.state !== 'running') return
    clearTimeout(this.restartTimer)
    try {
      await this.attach(model)
      this.restartAttempt = 0
    } catch (error) {
      this.options.onError(error as Error)
      this.scheduleRestart()
    }
  }

  /**
   * Stops handing deliveries to core. On a single-active-consumer queue the consumer is not cancelled:
   * a cancel makes a standby active while this one's handlers still run and before what it holds is
   * back in the queue, so the standby would start a key's later messages first. What arrives from now
   * on, and what core gives back, stays unacked until `close()` closes the channel, which returns it
   * all to the queue at its place, ahead of anything a standby then receives.
   */
  async stop(): Promise<void> {
    if (this.state !== 'running') return
    this.state = 'stopped'
    clearTimeout(this.restartTimer)
    await this.attaching?.catch(() => {})
    const attached = this.attached
    if (attached && !attached.closed && !this.source.singleActive) {
      // A broker that keeps the connection and stops answering holds a cancel until the heartbeat
      // gives up (~25 s): past answerWaitMs the channel counts as lost, and close() waits on it no more.
      if (
        !(await settlesWithin(
          attached.channel.cancel(attached.consumerTag).catch(() => {}),
          answerWaitMs,
        ))
      )
        this.unanswered = true
    }
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    clearTimeout(this.restartTimer)
    this.unregister()
    await this.attaching?.catch(() => {})
    const attached = this.attached
    this.attached = undefined
    if (attached && !attached.closed) {
      const closing = (async () => {
        // Acks asked for in this turn go out first, not back to the queue as redeliveries.
        await attached.acks.drained()
        // Closing the channel hands everything still unacked back to the broker.
        await attached.channel.close().catch(() => {})
      })()
      if (this.unanswered || !(await settlesWithin(closing, answerWaitMs))) {
        this.logger.warn(
          `rabbitmq: closing the consumer of ${this.source.describe}: the broker did not answer within ${answerWaitMs} ms; what it holds unacked goes back to the queue when the connection drops`,
        )
      }
    }
    await this.source.cleanup?.().catch((error: Error) => this.logger.debug(`rabbitmq: cleaning up ${this.source.describe}: ${error.message}`))
  }

  private attach(model: ChannelModel): Promise<void> {
    const attaching = (async () => {
      await this.attaching?.catch(() => {})
      if (this.attached && !this.attached.closed && this.attached.model === model) return
      const queue = await this.source.prepare()
      let channel: Channel
      try {
        channel = await model.createChannel()
      } catch (error) {
        throw connectionError(`cannot open a channel to consume ${this.source.describe}: ${(error as Error).message}`, error)
      }
      const attached: Attached = { model, channel, consumerTag: '', closed: false, acks: new RabbitAckBatch(channel, () => attached.closed) }
      channel.on('error', (error: Error) => this.logger.warn(`rabbitmq consumer of ${this.source.describe}: ${error.message}`))
      channel.on('handler-error', (error: Error) => this.logger.error(`rabbitmq: a consumer handler threw: ${error.message}`))
      channel.on('close', () => this.channelClosed(attached))
      try {
        await channel.prefetch(this.options.prefetch)
        const { consumerTag } = await channel.consume(queue, (raw) => this.receive(attached, raw), { noAck: false })
        attached.consumerTag = consumerTag
      } catch (error) {
        await channel.close().catch(() => {})
        throw connectionError(`cannot consume ${this.source.describe}: ${(error as Error).message}`, error)
      }
      this.attached = attached
      if (this.state === 'stopped') await channel.cancel(attached.consumerTag).catch(() => {})
      if (this.state === 'closed') await channel.close().catch(() => {})
    })()
    this.attaching = attaching
    return attaching
  }

  private channelClosed(attached: Attached): void {
    attached.closed = true
    if (this.attached !== attached) return
    this.attached = undefined
    if (this.state !== 'running') return
    this.options.onError(
      connectionError(`lost the channel consuming ${this.source.describe}; unacked messages go back to the queue and the consumer attaches again by itself`),
    )
    // With the connection still up, only this channel failed: attach again after a pause. Otherwise the
    // connection's recovery calls recover() once it is back.
    if (this.connection.current === attached.model) this.scheduleRestart()
  }

  private scheduleRestart(): void {
    if (this.state !== 'running') return
    clearTimeout(this.restartTimer)
    this.restartAttempt++
    const delayMs = Math.min(30_000, 500 * 2 ** (this.restartAttempt - 1))
    this.restartTimer = setTimeout(() => {
      const model = this.connection.current
      if (model) void this.recover(model)
    }, delayMs)
  }

  private receive(attached: Attached, raw: ConsumeMessage | null): void {
    if (raw === null) {
      // The broker cancelled the consumer (its queue was deleted, or a quorum leader moved).
      this.options.onError(connectionError(`the broker cancelled the consumer of ${this.source.describe}; attaching again`))
      this.source.forget?.()
      void attached.channel.close().catch(() => {})
      return
    }
    if (this.state !== 'running') {
      // Held, not requeued: on a single-active-consumer queue the broker would hand it straight back here.
      // Counted as held, so no ack with `multiple` covers it.
      if (this.source.singleActive) attached.acks.delivered(raw)
      else settle(attached, (channel) => channel.nack(raw, false, true))
      return
    }
    let delivery: Delivery
    try {
      delivery = this.delivery(attached, raw)
    } catch (error) {
      settle(attached, (channel) => channel.nack(raw, false, true))
      this.options.onError(error as Error)
      return
    }
    attached.acks.delivered(raw)
    try {
      this.deliver(delivery)
    } catch (error) {
      this.options.onError(error as Error)
    }
  }

  private delivery(attached: Attached, raw: ConsumeMessage): Delivery {
    const message = toIncoming(raw)
    let settled = false
    const ack = (): Promise<void> => {
      if (settled) return Promise.resolve()
      settled = true
      return attached.acks.ack(raw)
    }
    return {
      message,
      raw,
      ack,
      retry: async ({ delayMs, headers }) => {
        if (settled) return
        // Published (and confirmed) before the ack. If the publish fails the delivery stays unsettled
        // (the SPI's contract) and core releases it.
        await this.source.republish(retryCopy(message, { delayMs, headers }))
        await ack()
      },
      release: async () => {
        if (settled) return
        settled = true
        // Stopping a single-active-consumer queue: kept unacked, back to the queue with the channel's close (see stop()).
        if (this.source.singleActive && this.state !== 'running') return
        attached.acks.released(raw)
        settle(attached, (channel) => channel.nack(raw, false, true))
      },
      extendLease: async () => {
        throw new UnsupportedFeatureError(
          adapterName,
          'extendLease()',
          'RabbitMQ has no lease; a message stays with its consumer until settled or disconnected',
        )
      },
    }
  }
}

/** Acks or nacks on the channel that delivered; on a closed channel the broker has already requeued it. */
function settle(attached: Attached, action: (channel: Channel) => void): void {
  if (attached.closed) return
  try {
    action(attached.channel)
  } catch {
    // The channel closed in between: the broker requeues the message.
  }
}
