import { context, metrics, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { AggregationTemporality, type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'

/** Hands the metrics collected so far to the test when asked; nothing is exported anywhere. */
class OnDemandMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/**
 * An OpenTelemetry SDK registered globally the way an application registers one (tracer provider,
 * meter provider, W3C propagator, AsyncLocalStorage context), keeping finished spans and metrics in
 * memory for assertions. Register it before connecting: anymq picks its meter at `connect()`.
 */
export class TelemetryCapture {
  private readonly exporter = new InMemorySpanExporter()
  private readonly reader = new OnDemandMetricReader()

  constructor() {
    for (const api of [trace, metrics, propagation, context]) api.disable()
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.exporter)] }))
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [this.reader] }))
  }

  /** Finished spans whose `messaging.destination.name` or name mentions `destination`. */
  spansOf(destination: string): ReadableSpan[] {
    return this.exporter
      .getFinishedSpans()
      .filter((span) => span.name.endsWith(` ${destination}`) || span.attributes['messaging.destination.name'] === destination)
  }

  /** Every finished span. */
  get spans(): ReadableSpan[] {
    return this.exporter.getFinishedSpans()
  }

  /** The summed value of a counter (or the count of a histogram) over the data points of one destination. */
  async metric(name: string, destination: string): Promise<number> {
    const { resourceMetrics } = await this.reader.collect()
    let total = 0
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== name) continue
        for (const point of metric.dataPoints as DataPoint<number | Histogram>[]) {
          if (point.attributes['messaging.destination.name'] !== destination) continue
          total += typeof point.value === 'number' ? point.value : point.value.count
        }
      }
    }
    return total
  }
}

const installed = Symbol.for('anymq.conformance.telemetry-capture')

/** The process's one {@link TelemetryCapture}, registered on first use. */
export function telemetryCapture(): TelemetryCapture {
  const holder = globalThis as { [installed]?: TelemetryCapture }
  holder[installed] ??= new TelemetryCapture()
  return holder[installed]
}

/**
 * Unregisters the SDK {@link telemetryCapture} registered, so connections opened afterwards (the next
 * configuration's suite in the same file) carry no trace headers and record nothing.
 */
export function releaseTelemetryCapture(): void {
  const holder = globalThis as { [installed]?: TelemetryCapture }
  if (holder[installed] === undefined) return
  for (const api of [trace, metrics, propagation, context]) api.disable()
  delete holder[installed]
}
