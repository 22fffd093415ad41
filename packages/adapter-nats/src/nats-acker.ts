import { TurnBatch } from '@anymq/core/spi'
import type { JsMsg } from '@nats-io/jetstream'

/**
 * Confirmed acks (`ackAck`) in bursts: acks asked for in the same turn of the event loop are sent
 * together, so the client writes them to the socket at once. The client flushes what it has
 * buffered at each microtask checkpoint, and handlers finish in different ones, so acking each at
 * once was one socket write per message, about a third of the consume path's CPU. Each caller's
 * promise still resolves only once the server confirmed its ack.
 */
export class NatsAcker {
  private readonly batch = new TurnBatch<JsMsg>((entries) => {
    for (const entry of entries) entry.item.ackAck().then(() => entry.resolve(), entry.reject)
  })

  ack(message: JsMsg): Promise<void> {
    return this.batch.add(message)
  }
}
