import { OpenTelemetryMessaging } from './open-telemetry.js'
import { loadOpenTelemetryApi, type OpenTelemetryApi } from './open-telemetry-api.js'
import { noTelemetry, type Telemetry } from './telemetry.js'

/**
 * The telemetry of a new connection: OpenTelemetry when `@opentelemetry/api` is installed and an SDK
 * has registered a tracer or meter provider, else {@link noTelemetry}, so that an application
 * without an SDK pays nothing per message. Register the SDK before `connect()`.
 */
export async function connectionTelemetry(system: string, options: { lagIntervalMs: number }): Promise<Telemetry> {
  const api = await loadOpenTelemetryApi()
  if (!api) return noTelemetry
  const meterRegistered = api.metrics.getMeter('@anymq/core').constructor !== api.createNoopMeter().constructor
  if (!meterRegistered && !tracerRegistered(api)) return noTelemetry
  return new OpenTelemetryMessaging(api, system, undefined, { meterRegistered, lagIntervalMs: options.lagIntervalMs })
}

function tracerRegistered(api: OpenTelemetryApi): boolean {
  const tracers = api.trace.getTracerProvider()
  return tracers instanceof api.ProxyTracerProvider ? tracers.getDelegateTracer('@anymq/core') !== undefined : true
}
