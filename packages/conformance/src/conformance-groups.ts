// Names only, with no import of vitest: `anymq --help` lists the groups without loading the runner.

const groupNames = [
  // First: a restart costs a broker time in proportion to what it holds (Kafka loads every partition,
  // RabbitMQ recovers every queue), and before the other groups it holds almost nothing.
  'recovery',
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
  'admin',
  // Last: it registers an OpenTelemetry SDK for the rest of the file.
  'observability',
] as const

/** One group of the conformance suite; `target.groups` and `anymq conformance --groups` take these. */
export type ConformanceGroup = (typeof groupNames)[number]

/** Every group of the suite, in the order they run. */
export const conformanceGroups: ConformanceGroup[] = [...groupNames]
