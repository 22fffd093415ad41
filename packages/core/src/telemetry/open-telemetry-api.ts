/** The part of `@opentelemetry/api` anymq uses; typed here so that core's public types never name the optional package. */
export type OpenTelemetryApi = typeof import('@opentelemetry/api')

let loading: Promise<OpenTelemetryApi | undefined> | undefined

/**
 * `@opentelemetry/api` when the application has it installed, else `undefined`. It is an optional
 * peer dependency: importing it on demand keeps core free of it, and one module instance per
 * process means the SDK the application registers is the one anymq reports to.
 */
export function loadOpenTelemetryApi(): Promise<OpenTelemetryApi | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (api) => api,
    () => undefined,
  )
  return loading
}
