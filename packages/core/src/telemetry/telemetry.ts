import type { Destination, IncomingMessage, OutgoingMessage, Source } from '../spi/transport.js'

/**
 * Where core reports what it sends and processes: the hooks of the send path and the consumer
 * engine. Internal. {@link noTelemetry} when `@opentelemetry/api` is absent, so the hooks cost one
 * call each. The messages the hooks get are read-only: a delivered message can be the adapter's
 * stored one itself (memory:// with `bodiesReadOnly`), and a write would reach its redeliveries.
 */
export interface Telemetry {
  /** Runs `publish` inside a send span, with the trace context written into every message's headers first. */
  publish(destination: Destination, messages: readonly OutgoingMessage[], publish: () => Promise<void>): Promise<void>
  /** Runs `process` (handler and settlement) inside a process span that continues the sender's trace. */
  process(source: Source, message: IncomingMessage, process: () => Promise<void>): Promise<void>
  /** The message failed and will be delivered again after `delayMs`. */
  retried(source: Source, message: IncomingMessage, error: Error, delayMs: number): void
  /** The message failed for good and went to `deadLetter` (`false`: dropped, no dead-letter queue). */
  deadLettered(source: Source, message: IncomingMessage, error: Error, deadLetter: string | false): void
  /**
   * Reports `source`'s consumer lag, read with `read`, while the returned function has not been called.
   * Absent when no MeterProvider is registered: nothing is polled then.
   */
  watchLag?(source: Source, read: () => Promise<number | undefined>): () => void
}

/** Reports nothing; what core uses when `@opentelemetry/api` is not installed. */
export const noTelemetry: Telemetry = {
  publish: (_destination, _messages, publish) => publish(),
  process: (_source, _message, process) => process(),
  retried: () => {},
  deadLettered: () => {},
}
