import type { Attributes, Context, Link, Span, Tracer } from '@opentelemetry/api'
import { AnymqError } from '../errors.js'
import type { Destination, IncomingMessage, OutgoingMessage, Source } from '../spi/transport.js'
import { ConsumerLagGauge } from './consumer-lag.js'
import { MessagingMetrics } from './messaging-metrics.js'
import { destinationAttributes, messagingAttributes as names } from './messaging-names.js'
import type { OpenTelemetryApi } from './open-telemetry-api.js'
import type { Telemetry } from './telemetry.js'

const instrumentationName = '@anymq/core'

const headerSetter = {
  set(carrier: Record<string, string>, key: string, value: string) {
    carrier[key] = value
  },
}

const headerGetter = {
  get(carrier: Record<string, string>, key: string) {
    return carrier[key]
  },
  keys(carrier: Record<string, string>) {
    return Object.keys(carrier)
  },
}

/**
 * Traces and metrics through `@opentelemetry/api`, following the OpenTelemetry messaging semantic
 * conventions: a PRODUCER `send <destination>` span per message sent (a `create` span per message and
 * one CLIENT `send` span linking them for a batch), the W3C trace context written into the message's
 * headers by the registered propagator, and a CONSUMER `process <destination>` span that is a child
 * of the sender's span; retries and dead-lettering are events on it. Work a handler does (a send to
 * another broker) is a child of the process span.
 */
export class OpenTelemetryMessaging implements Telemetry {
  private readonly tracer: Tracer
  private readonly metrics: MessagingMetrics
  private readonly processing = new WeakMap<IncomingMessage, Span>()
  private readonly lag: ConsumerLagGauge | undefined
  readonly watchLag: Telemetry['watchLag']

  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly system: string,
    version: string | undefined,
    options: { meterRegistered: boolean; lagIntervalMs: number },
  ) {
    this.tracer = api.trace.getTracer(instrumentationName, version)
    const meter = api.metrics.getMeter(instrumentationName, version)
    this.metrics = new MessagingMetrics(meter)
    // Polling a broker for lag is only worth it when someone collects metrics.
    this.lag = options.meterRegistered && options.lagIntervalMs > 0 ? new ConsumerLagGauge(meter, options.lagIntervalMs) : undefined
    this.watchLag = this.lag === undefined ? undefined : (source, read) => this.watchSourceLag(source, read)
  }

  private watchSourceLag(source: Source, read: () => Promise<number | undefined>): () => void {
    const attributes = this.metricAttributes(source)
    const key = `${attributes[names.destinationName]}\u0000${attributes[names.subscriptionName] ?? ''}\u0000${source.kind}`
    return (this.lag as ConsumerLagGauge).watch(key, attributes, read)
  }

  async publish(destination: Destination, messages: readonly OutgoingMessage[], publish: () => Promise<void>): Promise<void> {
    const { api } = this
    const { name, attributes } = destinationAttributes(destination)
    const common: Attributes = { [names.system]: this.system, [names.operationName]: 'send', ...attributes }
    const active = api.context.active()
    const started = performance.now()
    let span: Span
    if (messages.length === 1) {
      const [message] = messages as [OutgoingMessage]
      span = this.tracer.startSpan(
        `send ${name}`,
        { kind: api.SpanKind.PRODUCER, attributes: { ...common, [names.operationType]: 'send', ...messageAttributes(message) } },
        active,
      )
      api.propagation.inject(api.trace.setSpan(active, span), message.headers, headerSetter)
    } else {
      const links: Link[] = []
      for (const message of messages) {
        const create = this.tracer.startSpan(
          `create ${name}`,
          { kind: api.SpanKind.PRODUCER, attributes: { ...common, [names.operationType]: 'create', ...messageAttributes(message) } },
          active,
        )
        api.propagation.inject(api.trace.setSpan(active, create), message.headers, headerSetter)
        links.push({ context: create.spanContext() })
        create.end()
      }
      span = this.tracer.startSpan(
        `send ${name}`,
        { kind: api.SpanKind.CLIENT, links, attributes: { ...common, [names.operationType]: 'send', [names.batchCount]: messages.length } },
        active,
      )
    }
    let errorType: string | undefined
    try {
      await api.context.with(api.trace.setSpan(active, span), publish)
    } catch (error) {
      errorType = errorTypeOf(error)
      span.recordException(error as Error)
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: (error as Error).message })
      span.setAttribute(names.errorType, errorType)
      throw error
    } finally {
      span.end()
      const metricAttributes: Attributes = errorType === undefined ? common : { ...common, [names.errorType]: errorType }
      this.metrics.sent.add(messages.length, metricAttributes)
      this.metrics.operationDuration.record((performance.now() - started) / 1000, metricAttributes)
    }
  }

  async process(source: Source, message: IncomingMessage, process: () => Promise<void>): Promise<void> {
    const { api } = this
    const { name, attributes } = destinationAttributes(source)
    const common: Attributes = { [names.system]: this.system, [names.operationName]: 'process', ...attributes }
    // The sender's context, not whatever the adapter's callback happened to run in.
    const parent: Context = api.propagation.extract(api.ROOT_CONTEXT, message.headers, headerGetter)
    const span = this.tracer.startSpan(
      `process ${name}`,
      {
        kind: api.SpanKind.CONSUMER,
        attributes: { ...common, [names.operationType]: 'process', [names.attempt]: message.attempt, ...messageAttributes(message) },
      },
      parent,
    )
    this.processing.set(message, span)
    this.metrics.consumed.add(1, common)
    this.metrics.inFlight.add(1, common)
    const started = performance.now()
    let errorType: string | undefined
    try {
      await api.context.with(api.trace.setSpan(parent, span), process)
    } catch (error) {
      errorType = errorTypeOf(error)
      span.recordException(error as Error)
      span.setStatus({ code: api.SpanStatusCode.ERROR })
      throw error
    } finally {
      this.processing.delete(message)
      span.end()
      this.metrics.inFlight.add(-1, common)
      this.metrics.processDuration.record((performance.now() - started) / 1000, errorType === undefined ? common : { ...common, [names.errorType]: errorType })
    }
  }

  retried(source: Source, message: IncomingMessage, error: Error, delayMs: number): void {
    const errorType = errorTypeOf(error)
    this.processing.get(message)?.addEvent('anymq.retry', {
      [names.attempt]: message.attempt,
      'anymq.retry.delay_ms': delayMs,
      [names.errorType]: errorType,
      'exception.message': error.message,
    })
    this.metrics.retried.add(1, { ...this.metricAttributes(source), [names.errorType]: errorType })
  }

  deadLettered(source: Source, message: IncomingMessage, error: Error, deadLetter: string | false): void {
    const errorType = errorTypeOf(error)
    const span = this.processing.get(message)
    if (span) {
      span.addEvent('anymq.dead_letter', {
        [names.attempt]: message.attempt,
        'anymq.dead_letter.queue': deadLetter === false ? '' : deadLetter,
        'anymq.dead_letter.dropped': deadLetter === false,
        [names.errorType]: errorType,
        'exception.message': error.message,
      })
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: error.message })
      span.setAttribute(names.errorType, errorType)
    }
    this.metrics.deadLettered.add(1, { ...this.metricAttributes(source), [names.errorType]: errorType })
  }

  private metricAttributes(source: Source): Attributes {
    return { [names.system]: this.system, [names.operationName]: 'process', ...destinationAttributes(source).attributes }
  }
}

function messageAttributes(message: OutgoingMessage | IncomingMessage): Attributes {
  const attributes: Attributes = { [names.messageId]: message.id, [names.bodySize]: message.body.byteLength }
  if (message.correlationId !== undefined) attributes[names.conversationId] = message.correlationId
  return attributes
}

/** `error.type`: an anymq error's code, else the error's class name. */
function errorTypeOf(error: unknown): string {
  if (error instanceof AnymqError) return error.code
  return error instanceof Error ? error.name : 'Error'
}
