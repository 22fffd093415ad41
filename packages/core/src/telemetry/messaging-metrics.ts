import type { Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api'

/**
 * The instruments anymq records: the semantic-convention names where the conventions have one,
 * `anymq.*` for what they do not cover. Created once per connection from the meter of the globally
 * registered MeterProvider, so an SDK registered before `connect()` sees them.
 */
export class MessagingMetrics {
  /** `messaging.client.sent.messages`: messages the broker accepted (or refused, with `error.type`). */
  readonly sent: Counter
  /** `messaging.client.operation.duration`: seconds from publish to the broker's confirmation. */
  readonly operationDuration: Histogram
  /** `messaging.client.consumed.messages`: messages handed to a handler. */
  readonly consumed: Counter
  /** `messaging.process.duration`: seconds from handing a message over to settling it. */
  readonly processDuration: Histogram
  /** `anymq.messages.retried`: failed deliveries scheduled for another attempt. */
  readonly retried: Counter
  /** `anymq.messages.dead_lettered`: messages that failed for good (sent to the dead-letter queue, or dropped without one). */
  readonly deadLettered: Counter
  /** `anymq.messages.in_flight`: messages handed to a handler and not yet settled. */
  readonly inFlight: UpDownCounter

  constructor(meter: Meter) {
    this.sent = meter.createCounter('messaging.client.sent.messages', {
      unit: '{message}',
      description: 'Number of messages producer attempted to send to the broker.',
    })
    this.operationDuration = meter.createHistogram('messaging.client.operation.duration', {
      unit: 's',
      description: 'Duration of messaging operation initiated by a producer or consumer client.',
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
    })
    this.consumed = meter.createCounter('messaging.client.consumed.messages', {
      unit: '{message}',
      description: 'Number of messages that were delivered to the application.',
    })
    this.processDuration = meter.createHistogram('messaging.process.duration', {
      unit: 's',
      description: 'Duration of processing operation.',
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
    })
    this.retried = meter.createCounter('anymq.messages.retried', { unit: '{message}', description: 'Failed deliveries scheduled for another attempt.' })
    this.deadLettered = meter.createCounter('anymq.messages.dead_lettered', {
      unit: '{message}',
      description: 'Messages that failed for good: moved to the dead-letter queue, or dropped where there is none.',
    })
    this.inFlight = meter.createUpDownCounter('anymq.messages.in_flight', {
      unit: '{message}',
      description: 'Messages handed to a handler and not yet settled.',
    })
  }
}
