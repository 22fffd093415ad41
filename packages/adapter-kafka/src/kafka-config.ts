import type { ConnectionOptions } from 'node:tls'
import {
  ConfigError,
  type ConfigProblem,
  decodeUrlPart,
  either,
  integer,
  type OptionCheck,
  type OptionShape,
  objectOf,
  ofType,
  oneOf,
  parseUrlOptions,
  readTlsOptions,
  registerSecret,
  required,
  tlsUrlOptions,
} from '@anymq/core/spi'

/** SASL credentials; the password is registered as a secret and never appears in errors or logs. */
export interface KafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
  username: string
  password: string
}

/** The Kafka client library behind the adapter (see the README for why the default won). */
export type KafkaDriverName = 'platformatic' | 'kafkajs'
export const driverNames: readonly KafkaDriverName[] = ['platformatic', 'kafkajs']

/** Producer compression. kafkajs ships only gzip; @platformatic/kafka has all four. */
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
export const compressions: readonly KafkaCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

/**
 * When a record carries `x-anymq-content-type`. `unlessJson` (the default): not when the content type
 * is `application/json` (the default codec's), one header less per record for the client library to
 * write and parse; anymq readers from this version on infer it for a record that has an anymq id and
 * no content type, readers built before it (none released) report `application/octet-stream` and
 * still decode the body. `always`: every record, for such readers.
 */
export type KafkaContentTypeHeader = 'always' | 'unlessJson'
export const contentTypeHeaders: readonly KafkaContentTypeHeader[] = ['always', 'unlessJson']

/**
 * Consumer group protocols. Only the classic one (JoinGroup/SyncGroup, eager rebalances) runs:
 * `consumer` (KIP-848) is recognised so that asking for it is refused with the reason, not as an
 * unknown option.
 */
export type KafkaGroupProtocol = 'classic' | 'consumer'
export const groupProtocols: readonly KafkaGroupProtocol[] = ['classic', 'consumer']

/**
 * Why `groupProtocol=consumer` is refused. Checked against @platformatic/kafka 2.12.1, the newest
 * release on npm on 2026-12-01; kafkajs has no KIP-848 at all.
 */
export const consumerGroupProtocolRefusal =
  "'consumer' (KIP-848) is not supported: @platformatic/kafka 2.12.1 (the newest release) announces a join under it with neither the assignment nor a member epoch, and assigns partitions later from heartbeats with no event, while anymq needs both to drop records of partitions that moved and to commit only the partitions it owns; use 'classic' (the default)"

/** Everything the Kafka adapter reads from the URL and `connect(url, { broker })`, defaults filled in. */
export interface KafkaSettings {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[]
  /** Client library: `platformatic` (@platformatic/kafka, Node ≥ 22.22) or `kafkajs`. Default see `defaultSettings.driver`. */
  driver: KafkaDriverName
  /** Producer compression of record batches. Default `none`. */
  compression: KafkaCompression
  /** Whether a JSON record carries its content type header; see {@link KafkaContentTypeHeader}. Default `always`. */
  contentTypeHeader: KafkaContentTypeHeader
  /** Consumer group protocol; only `classic` runs (see `consumerGroupProtocolRefusal`). Default `classic`. */
  groupProtocol: 'classic'
  /** Client id sent to the brokers (quotas, logs). Default `anymq`. */
  clientId: string
  /** TLS: `true`, or Node `tls.connect` options (ca, cert, key…). Default off. */
  ssl: boolean | ConnectionOptions
  sasl: KafkaSasl | undefined
  /** Partitions of topics anymq creates. Default 3. */
  partitions: number
  /** Replication factor of topics anymq creates; -1 = the broker's `default.replication.factor`. Default -1. */
  replicationFactor: number
  /** Consumer session timeout: how soon a crashed consumer's partitions move. Broker minimum 6000. Default 10000. */
  sessionTimeoutMs: number
  /** Consumer heartbeat interval. Default 1000. */
  heartbeatIntervalMs: number
  /** How long the group waits for members to rejoin during a rebalance. Default 10000. */
  rebalanceTimeoutMs: number
  /** Longest a fetch waits for data; bounds how fast a consumer notices a rebalance or stops. Default 100. */
  maxWaitTimeMs: number
  /** Largest message (body plus headers) accepted; keep below the broker's `message.max.bytes`. Default 1000000. */
  maxMessageBytes: number
  /** TCP connect timeout. Default 3000. */
  connectionTimeoutMs: number
  /** Request timeout. Default 30000. */
  requestTimeoutMs: number
}

/** Options of `connect('kafka://…', { broker: { … } })`; each wins over the same URL option. */
export type KafkaBrokerOptions = Partial<Omit<KafkaSettings, 'brokers' | 'groupProtocol'>> & { groupProtocol?: KafkaGroupProtocol }

const urlOptions = {
  driver: { type: 'enum', values: driverNames, description: 'Kafka client library' },
  compression: { type: 'enum', values: compressions, description: 'producer compression' },
  contentTypeHeader: { type: 'enum', values: contentTypeHeaders, description: 'when records carry x-anymq-content-type' },
  groupProtocol: { type: 'enum', values: groupProtocols, description: 'consumer group protocol' },
  clientId: { type: 'string', description: 'client id sent to the brokers' },
  ssl: { type: 'boolean', description: 'TLS to the brokers' },
  saslMechanism: { type: 'enum', values: ['plain', 'scram-sha-256', 'scram-sha-512'], description: 'SASL mechanism for the URL user and password' },
  partitions: { type: 'integer', min: 1, max: 10_000 },
  replicationFactor: { type: 'integer', min: -1, max: 100 },
  sessionTimeoutMs: { type: 'integer', min: 1000, max: 3_600_000 },
  heartbeatIntervalMs: { type: 'integer', min: 100, max: 600_000 },
  rebalanceTimeoutMs: { type: 'integer', min: 1000, max: 3_600_000 },
  maxWaitTimeMs: { type: 'integer', min: 0, max: 60_000 },
  maxMessageBytes: { type: 'integer', min: 1, max: 1_073_741_824 },
  connectionTimeoutMs: { type: 'integer', min: 1, max: 600_000 },
  requestTimeoutMs: { type: 'integer', min: 1, max: 3_600_000 },
  // ?ca=/path (and cert, key, servername, rejectUnauthorized) turn TLS on.
  ...tlsUrlOptions,
} as const

const numericBrokerOptions = [
  'partitions',
  'replicationFactor',
  'sessionTimeoutMs',
  'heartbeatIntervalMs',
  'rebalanceTimeoutMs',
  'maxWaitTimeMs',
  'maxMessageBytes',
  'connectionTimeoutMs',
  'requestTimeoutMs',
] as const

const brokerOptionChecks: OptionShape = {
  driver: oneOf(...driverNames),
  compression: oneOf(...compressions),
  contentTypeHeader: oneOf(...contentTypeHeaders),
  groupProtocol: oneOf(...groupProtocols),
  clientId: ofType('string'),
  ssl: either(ofType('boolean'), ofType('object', 'tls.connect options')),
  sasl: objectOf(
    {
      mechanism: required(oneOf('plain', 'scram-sha-256', 'scram-sha-512')),
      username: required(ofType('string')),
      password: required(ofType('string')),
    },
    "{ mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', username, password }",
  ),
  ...Object.fromEntries(numericBrokerOptions.map((name): [string, OptionCheck] => [name, integer(urlOptions[name].min, urlOptions[name].max)])),
}

/**
 * Checks of `queue(name, { broker })` and `subscribe(…, { broker })`: partitions and replication of
 * the topics anymq creates for them (-1 = the broker's default replication factor).
 */
export const queueBrokerOptions: OptionShape = {
  partitions: integer(1, 10_000),
  replicationFactor: either(oneOf(-1), integer(1, 100)),
}

export const defaultSettings = {
  driver: 'platformatic' as KafkaDriverName,
  compression: 'none' as KafkaCompression,
  contentTypeHeader: 'unlessJson' as KafkaContentTypeHeader,
  groupProtocol: 'classic' as const,
  clientId: 'anymq',
  partitions: 3,
  replicationFactor: -1,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 10_000,
  maxWaitTimeMs: 100,
  maxMessageBytes: 1_000_000,
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
} as const

/**
 * Reads `kafka://[user:password@]host:9092[,host2:9092][?option=value…]` and the `broker` options of
 * `connect()`. Broker options win over URL options. Every problem is reported at once.
 */
export function resolveSettings(url: URL, hosts: readonly string[] | undefined, options: Readonly<Record<string, unknown>>): KafkaSettings {
  const problems: ConfigProblem[] = []
  const fromUrl = parseUrlOptions(url, urlOptions, 'kafka', problems)
  const brokers = (hosts && hosts.length > 0 ? [...hosts] : [url.host]).filter(Boolean)
  if (brokers.length === 0) problems.push({ field: 'url', message: 'no broker: expected kafka://host:9092[,host2:9092]' })
  for (const [index, broker] of brokers.entries()) {
    if (!/:\d+$/.test(broker)) brokers[index] = `${broker}:9092`
  }
  objectOf(brokerOptionChecks)(options, 'broker', problems)
  const numbers: Record<string, number> = {}
  for (const name of numericBrokerOptions) {
    const value = options[name] ?? fromUrl[name]
    const { min, max } = urlOptions[name]
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) numbers[name] = value
  }
  const driver = (options.driver ?? fromUrl.driver ?? defaultSettings.driver) as KafkaDriverName
  const compression = (options.compression ?? fromUrl.compression ?? defaultSettings.compression) as KafkaCompression
  if (driver === 'kafkajs' && compression !== 'none' && compression !== 'gzip' && compressions.includes(compression)) {
    problems.push({ field: 'broker.compression', message: `kafkajs ships only gzip; use driver=platformatic for ${compression}` })
  }
  if ((options.groupProtocol ?? fromUrl.groupProtocol) === 'consumer') {
    problems.push({ field: options.groupProtocol === undefined ? 'url ?groupProtocol' : 'broker.groupProtocol', message: consumerGroupProtocolRefusal })
  }
  const given: unknown = options.ssl ?? fromUrl.ssl
  let ssl: unknown = given ?? false
  // An `ssl` of the wrong type is reported by the check above; here only TLS contents are read.
  if (typeof ssl === 'boolean' || (typeof ssl === 'object' && ssl !== null && !Array.isArray(ssl))) {
    const tls = readTlsOptions(fromUrl, typeof ssl === 'object' ? ssl : undefined, 'broker.ssl', problems)
    if (tls !== undefined && given === false) problems.push({ field: 'broker.ssl', message: 'is false, but TLS settings (ca, cert, key…) were given' })
    else if (tls !== undefined) ssl = tls
  }
  const sasl = readSasl(url, fromUrl.saslMechanism as KafkaSasl['mechanism'] | undefined, options.sasl)
  const merged = { ...defaultSettings, ...numbers }
  if (merged.heartbeatIntervalMs >= merged.sessionTimeoutMs) {
    problems.push({ field: 'broker.heartbeatIntervalMs', message: `must be lower than sessionTimeoutMs (${merged.sessionTimeoutMs})` })
  }
  if (problems.length > 0) throw new ConfigError(problems, { adapter: 'kafka' })
  return {
    ...merged,
    driver,
    compression,
    contentTypeHeader: (options.contentTypeHeader ?? fromUrl.contentTypeHeader ?? defaultSettings.contentTypeHeader) as KafkaContentTypeHeader,
    brokers,
    clientId: (options.clientId as string | undefined) ?? fromUrl.clientId ?? defaultSettings.clientId,
    ssl: ssl as boolean | ConnectionOptions,
    sasl,
  }
}

/** SASL from `broker.sasl` (already checked), else from the URL's user and password. */
function readSasl(url: URL, mechanism: KafkaSasl['mechanism'] | undefined, option: unknown): KafkaSasl | undefined {
  if (option !== undefined) {
    const sasl = option as KafkaSasl
    registerSecret(typeof sasl?.password === 'string' ? sasl.password : undefined)
    return sasl
  }
  if (!url.username && !url.password) return undefined
  const password = decodeUrlPart(url.password)
  registerSecret(password)
  return { mechanism: mechanism ?? 'plain', username: decodeUrlPart(url.username), password }
}

/** Partitions and replication of the topics behind one queue or subscription. */
export interface KafkaTopicOptions {
  partitions: number
  replicationFactor: number
}

const topicOptionNames = ['partitions', 'replicationFactor'] as const

/**
 * Reads `queue(name, { broker: { partitions, replicationFactor } })` (and the same on a subscription),
 * falling back to the connection's settings. They apply when anymq creates the topics; an existing
 * topic keeps what it has. Every problem is reported at once.
 */
export function resolveTopicOptions(broker: Readonly<Record<string, unknown>>, settings: KafkaTopicOptions, where: string): KafkaTopicOptions {
  const problems: ConfigProblem[] = []
  for (const name of Object.keys(broker)) {
    if (!(topicOptionNames as readonly string[]).includes(name))
      problems.push({ field: `${where}.broker.${name}`, message: `unknown option; allowed: ${topicOptionNames.join(', ')}` })
  }
  const result = { partitions: settings.partitions, replicationFactor: settings.replicationFactor }
  for (const name of topicOptionNames) {
    const value = broker[name]
    if (value === undefined) continue
    const spec = urlOptions[name]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max || value === 0) {
      problems.push({
        field: `${where}.broker.${name}`,
        message: `${JSON.stringify(value)} is not an integer in ${spec.min}..${spec.max}${name === 'replicationFactor' ? ' (-1 = broker default, not 0)' : ''}`,
      })
    } else result[name] = value
  }
  if (problems.length > 0) throw new ConfigError(problems, { adapter: 'kafka' })
  return result
}
