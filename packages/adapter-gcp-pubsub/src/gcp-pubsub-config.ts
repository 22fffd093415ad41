import { ConfigError, type ConfigProblem, type OptionCheck, objectOf, ofType, parseUrlOptions, registerSecret } from '@anymq/core/spi'

/** Everything a Pub/Sub connection needs, read once from the URL and `connect(url, { broker })`. */
export interface PubSubSettings {
  projectId: string
  /** `host:port` of an emulator or a private endpoint; `undefined` = Google's (or `PUBSUB_EMULATOR_HOST`). */
  endpoint: string | undefined
  /** First part of every topic and subscription id anymq creates (`anymq.q.orders`). */
  prefix: string
  /** Ack deadline of consumers given no `leaseMs`, in seconds (Pub/Sub allows 10 to 600). */
  ackDeadlineSeconds: number
  /** Messages one pull asks for at most. */
  maxPull: number
  /** Most bytes of messages one Publish request carries; a larger batch is split into several requests. */
  maxPublishBytes: number
  connectTimeoutMs: number
  /** Path of a service-account key file (otherwise Application Default Credentials). */
  keyFilename: string | undefined
  /** A service-account key given as an object (the key file's JSON, parsed). */
  credentials: ServiceAccountCredentials | undefined
}

/** The fields of a service-account key file anymq needs; the file's other fields may be given too. */
export interface ServiceAccountCredentials {
  client_email: string
  /** PEM; registered as a secret, so it is `***` in every anymq error and log line. */
  private_key: string
  [field: string]: unknown
}

export const urlOptions = {
  endpoint: { type: 'string', description: 'host:port of an emulator or private endpoint (default: PUBSUB_EMULATOR_HOST or Google)' },
  prefix: { type: 'string', description: 'topic and subscription id prefix (default anymq)' },
  ackDeadlineSeconds: { type: 'integer', min: 10, max: 600, description: 'lease of consumers given no leaseMs, in seconds (default 30)' },
  maxPull: { type: 'integer', min: 1, max: 1000, description: 'most messages one pull asks for (default 100)' },
  maxPublishBytes: {
    type: 'integer',
    min: 65_536,
    max: 10_000_000,
    description: 'most bytes one Publish request carries; larger batches are split (default 4000000)',
  },
  connectTimeoutMs: { type: 'integer', min: 100, max: 600_000, description: 'time allowed for the first call (default 10000)' },
} as const

/**
 * `maxPublishBytes`: the service takes 10 MB per Publish request, but a gRPC server left at its
 * defaults (pstest, the emulator here) refuses any request over 4 MiB (4 194 304 bytes), so the
 * default stays under both.
 */
export const defaults = { prefix: 'anymq', ackDeadlineSeconds: 30, maxPull: 100, maxPublishBytes: 4_000_000, connectTimeoutMs: 10_000 } as const

/** Options of `connect(url, { broker: { … } })` for Pub/Sub. */
export interface PubSubBrokerOptions {
  /** Path of a service-account key file; without it (and `credentials`) Application Default Credentials are used. */
  keyFilename?: string
  /**
   * A service-account key as an object (`JSON.parse` of the key file, e.g. from a secret manager):
   * `client_email` and `private_key` are required. Not together with `keyFilename`.
   */
  credentials?: ServiceAccountCredentials
}

const brokerOptionChecks: Record<keyof PubSubBrokerOptions, OptionCheck> = {
  keyFilename: ofType('string'),
  credentials: ofType('object', 'a service-account key object { client_email, private_key, … }'),
}

function readCredentials(value: unknown, problems: ConfigProblem[]): ServiceAccountCredentials | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const given = value as Record<string, unknown>
  // Registered before any check can fail, so no later error or log line can hold it.
  if (typeof given.private_key === 'string') registerSecret(given.private_key)
  for (const field of ['client_email', 'private_key'] as const) {
    if (typeof given[field] !== 'string' || given[field] === '')
      problems.push({ field: `broker.credentials.${field}`, message: 'required: a non-empty string from the service-account key file' })
  }
  if (typeof given.private_key === 'string' && given.private_key !== '' && !given.private_key.includes('-----BEGIN'))
    problems.push({ field: 'broker.credentials.private_key', message: 'not PEM (no -----BEGIN line); give the private_key of the key file as it is' })
  return given as ServiceAccountCredentials
}

/** Reads the URL and broker options; every problem is reported at once in one {@link ConfigError}. */
export function readSettings(url: URL, broker: Readonly<Record<string, unknown>>): PubSubSettings {
  const problems: ConfigProblem[] = []
  const options = parseUrlOptions(url, urlOptions, 'gcp-pubsub', problems)
  objectOf(brokerOptionChecks)(broker, 'broker', problems)
  const credentials = readCredentials(broker.credentials, problems)
  if (credentials !== undefined && broker.keyFilename !== undefined)
    problems.push({ field: 'broker.credentials', message: 'give either credentials or keyFilename, not both' })
  const projectId = url.hostname
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(projectId)) {
    problems.push({ field: 'url host', message: `'${projectId}' is not a project id (6 to 30 lower-case letters, digits, '-'), e.g. gcp-pubsub://my-project` })
  }
  const prefix = options.prefix ?? defaults.prefix
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(prefix) || prefix.toLowerCase().startsWith('goog')) {
    problems.push({ field: 'url ?prefix', message: `'${prefix}' must start with a letter (not 'goog') and have up to 32 letters, digits, '_' or '-'` })
  }
  if (problems.length > 0) throw new ConfigError(problems, { adapter: 'gcp-pubsub' })
  return {
    projectId,
    endpoint: options.endpoint ?? process.env.PUBSUB_EMULATOR_HOST,
    prefix,
    ackDeadlineSeconds: options.ackDeadlineSeconds ?? defaults.ackDeadlineSeconds,
    maxPull: options.maxPull ?? defaults.maxPull,
    maxPublishBytes: options.maxPublishBytes ?? defaults.maxPublishBytes,
    connectTimeoutMs: options.connectTimeoutMs ?? defaults.connectTimeoutMs,
    keyFilename: broker.keyFilename as string | undefined,
    credentials,
  }
}
