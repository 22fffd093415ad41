import type { AnymqError } from '@anymq/core/spi'
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { connectionError } from './nats-errors.js'
import { NatsPuller } from './nats-puller.js'
import type { DelayTarget } from './nats-topology.js'
import { fields } from './nats-wire.js'

/** A message due within this is moved now rather than put back again (as the consumer hands it now). */
const dueToleranceMs = 20
/** Messages one pull asks for: each is put back or moved at once, so none is held for long. */
const pullBatch = 100

export interface NatsDelayMoverContext {
  connection: NatsConnection
  client: JetStreamClient
  fetchExpiresMs: number
  onError: (error: AnymqError) => void
}

/**
 * Moves an `ordered` queue's waiting messages (sent with `delayMs`, or retries waiting out their
 * backoff) from its delay stream into the queue once they are due. They wait there, put back with
 * NAK and the time left, rather than in the queue itself, whose consumer lets one message be
 * unsettled at a time: a message waiting there held up the whole queue until it was due. A message
 * leaves the delay stream only once the queue's stream stored it (a crash in between duplicates, never
 * loses). Every consumer instance of the queue runs one; they share the delay stream's durable consumer.
 */
export class NatsDelayMover {
  private stopped = false
  private loop: Promise<void> | undefined
  private puller: NatsPuller | undefined
  private readonly moving = new Set<Promise<void>>()

  constructor(
    private readonly context: NatsDelayMoverContext,
    private readonly delays: DelayTarget,
    /** The queue's subject. */
    private readonly queueSubject: string,
  ) {}

  start(): void {
    const { connection, client, fetchExpiresMs } = this.context
    this.puller = new NatsPuller(connection, client.apiPrefix, this.delays.stream, this.delays.consumer, fetchExpiresMs, (message) => {
      if (this.stopped) message.nak()
      else this.receive(message)
    })
    this.loop = this.run()
  }

  /** Stops pulling and waits for the moves under way; what arrives after is put back at once. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.loop
    await Promise.allSettled([...this.moving])
    this.puller?.close()
  }

  private async run(): Promise<void> {
    let failures = 0
    const puller = this.puller as NatsPuller
    while (!this.stopped) {
      try {
        await puller.pull(pullBatch)
        failures = 0
      } catch (error) {
        if (this.stopped) break
        failures++
        if (failures === 1 || failures % 20 === 0) this.context.onError(connectionError(`fetching from '${this.delays.stream}'`, error))
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** Math.min(failures, 5), 2000)))
      }
    }
  }

  private receive(raw: JsMsg): void {
    const deliverAt = Number(raw.headers?.get(fields.deliverAt))
    const left = Number.isFinite(deliverAt) ? deliverAt - Date.now() : 0
    if (left > dueToleranceMs) {
      raw.nak(left)
      return
    }
    const moving = this.move(raw).finally(() => this.moving.delete(moving))
    this.moving.add(moving)
  }

  /** Stores the message, headers as they are, at the back of the queue, then takes it off the delay stream. */
  private async move(raw: JsMsg): Promise<void> {
    try {
      await this.context.client.publish(this.queueSubject, raw.data, { headers: raw.headers })
      await raw.ackAck()
    } catch (error) {
      raw.nak()
      this.context.onError(connectionError(`moving a due message from '${this.delays.stream}' into '${this.queueSubject}'`, error))
    }
  }
}
