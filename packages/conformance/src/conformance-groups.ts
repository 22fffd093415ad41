// Names only, with no import of vitest: `anymq --help` lists the groups without loading the runner.

const groupNames = [
  'round-trip',
  'queue',
  'topic',
  'acknowledgement',
  'retry',
  'request-reply',
  'scatter-gather',
  'idempotency',
  'claim-check',
  'ordering',
  'priority',
  'delay',
  'lifecycle',
  'recovery',
  'admin',
  // Last: it registers an OpenTelemetry SDK for the rest of the file.
  'observability',
] as const

/** One group of the conformance suite; `target.groups` and `anymq conformance --groups` take these. */
export type ConformanceGroup = (typeof groupNames)[number]

/** Every group of the suite, in the order they run. */
export const conformanceGroups: ConformanceGroup[] = [...groupNames]
