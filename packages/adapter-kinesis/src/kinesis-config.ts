import type { ConnectionOptions as TlsOptions } from 'node:tls'
import {
  ConfigError,
  type ConfigProblem,
  either,
  integer,
  type OptionShape,
  objectOf,
  ofType,
  parseUrlOptions,
  readTlsOptions,
  registerSecret,
  required,
  stringRecord,
  tlsUrlOptions,
  withMembers,
} from '@anymq/core/spi'
import { adapterName } from './kinesis-errors.js'

/** Connection settings of `kinesis://<region>?…`, every one validated up front. */
export interface KinesisConfig {
  /** AWS region; from the URL host, else from AWS_REGION / the shared config. */
  region: string | undefined
  /** Custom endpoint for Kinesis and DynamoDB (moto, LocalStack…); `undefined` = AWS. */
  endpoint: string | undefined
  /** Shards of a stream anymq creates (existing streams keep theirs). Default 2. */
  shards: number
  /** How long a shard lease lives without renewal before another consumer may take it (KCL's failover time). Default 10 000 ms. */
  leaseMs: number
  /** Wait between two GetRecords calls of a shard that returned nothing (KCL's idle time between reads). Default 1000 ms. */
  pollMs: number
  /** Largest message accepted: body plus headers, at most 1 MiB less the envelope reserve. */
  maxMessageBytes: number
  /** Explicit credentials or provider (`connect(url, { broker: { credentials } })`); default: the AWS provider chain. */
  credentials: unknown
  /** Node `tls.connect` options for an https:// endpoint (a private CA, a client certificate); `undefined` = Node's defaults. */
  tls: TlsOptions | undefined
}

/** Options of `connect('kinesis://…', { broker: { … } })`. */
export interface KinesisBrokerOptions {
  /** `{ accessKeyId, secretAccessKey, sessionToken? }` or a provider (`@aws-sdk/credential-providers`). Default: the SDK's provider chain. */
  credentials?: unknown
  /**
   * TLS settings for an https:// endpoint, passed to Node's `tls.connect`: `ca`, `cert`, `key` (PEM text,
   * Buffers or file paths), `passphrase`, `servername`, `rejectUnauthorized`… Checked at `connect()`. The
   * same names work as URL parameters for file paths: `kinesis://us-east-1?endpoint=https://…&ca=/etc/ssl/ca.pem`.
   */
  tls?: TlsOptions
}

/**
 * Where a new consumer group starts, instead of `startFrom` (`subscribe(…, { broker: { startAt } })`):
 * `{ timestamp }` (epoch ms, AT_TIMESTAMP on every shard) or `{ sequenceNumbers: { [shardId]: n } }`
 * (AT_SEQUENCE_NUMBER on the listed shards; the others follow `startFrom`). Only read when the group's
 * lease table is created: a group that has checkpoints resumes from them.
 */
export type KinesisStartAt = { timestamp: number } | { sequenceNumbers: Record<string, string> }

/** Kinesis takes records of 1 MiB (data plus partition key); anymq keeps 4 KiB of it for its envelope. */
export const recordLimitBytes = 1_048_576
export const envelopeReserveBytes = 4096
export const defaultMaxMessageBytes = recordLimitBytes - envelopeReserveBytes

export const urlOptions = {
  endpoint: { type: 'string', description: 'custom endpoint for Kinesis and DynamoDB, e.g. http://127.0.0.1:4566 (moto, LocalStack)' },
  shards: { type: 'integer', min: 1, max: 500, description: 'shards of each stream anymq creates (default 2)' },
  leaseMs: { type: 'integer', min: 200, max: 3_600_000, description: 'shard lease duration before takeover (default 10000)' },
  pollMs: { type: 'integer', min: 10, max: 60_000, description: 'wait between reads of an idle shard (default 1000)' },
  maxMessageBytes: { type: 'integer', min: 1024, max: defaultMaxMessageBytes, description: `lower the size limit (default ${defaultMaxMessageBytes})` },
  ...tlsUrlOptions,
} as const

const brokerOptionChecks: OptionShape = {
  credentials: either(
    ofType('function', 'a credential provider function'),
    withMembers(
      { accessKeyId: required(ofType('string')), secretAccessKey: required(ofType('string')), sessionToken: ofType('string') },
      'credentials { accessKeyId, secretAccessKey, sessionToken? }',
    ),
  ),
  tls: ofType('object', 'an object of tls.connect options'),
}

/** Checks of `queue(name, { broker })` and `subscribe(…, { broker })`: where a new group starts. */
export const queueBrokerOptions: OptionShape = {
  startAt: either(
    withMembers({ timestamp: required(integer(0)) }, 'startAt { timestamp: epoch milliseconds }'),
    withMembers({ sequenceNumbers: required(stringRecord()) }, 'startAt { sequenceNumbers: { [shardId]: sequenceNumber } }'),
  ),
}

const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/

export function parseConfig(url: URL, options: Readonly<Record<string, unknown>>): KinesisConfig {
  const problems: ConfigProblem[] = []
  const parsed = parseUrlOptions(url, urlOptions, adapterName, problems)
  if (url.username || url.password) {
    problems.push({
      field: 'url',
      message:
        'credentials do not belong in the URL (it is logged and shown); use the AWS provider chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an IAM role) or connect(url, { broker: { credentials } })',
    })
  }
  const region = url.hostname || undefined
  if (region !== undefined && !regionPattern.test(region)) {
    problems.push({ field: 'url host', message: `'${region}' is not an AWS region; expected e.g. kinesis://us-east-1` })
  }
  if (url.pathname && url.pathname !== '/' && url.pathname !== '') {
    problems.push({ field: 'url path', message: `'${url.pathname}' is not allowed; the URL is kinesis://<region>?options` })
  }
  const endpointText = url.searchParams.get('endpoint')
  if (endpointText !== null) {
    let endpoint: URL | undefined
    try {
      endpoint = new URL(endpointText)
    } catch {
      endpoint = undefined
    }
    if (!endpoint || (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:')) {
      problems.push({ field: 'url ?endpoint', message: `'${endpointText}' is not an http:// or https:// URL` })
    }
  }
  objectOf(brokerOptionChecks)(options, 'broker', problems)
  // Secrets of explicit credentials are `***` in every anymq error and log line, even where the SDK echoes them.
  const given = options.credentials as { secretAccessKey?: unknown; sessionToken?: unknown } | undefined
  if (typeof given === 'object' && given !== null) {
    for (const secret of [given.secretAccessKey, given.sessionToken]) if (typeof secret === 'string') registerSecret(secret)
  }
  // A `tls` that is not an object is reported by the check above; here only its contents are read.
  const tlsObject = typeof options.tls === 'object' && options.tls !== null && !Array.isArray(options.tls) ? options.tls : undefined
  const tls = readTlsOptions(parsed, tlsObject, 'broker.tls', problems)
  if (tls !== undefined && !parsed.endpoint?.startsWith('https:')) {
    problems.push({ field: 'broker.tls', message: 'TLS settings apply to an https:// ?endpoint (AWS itself needs none)' })
  }
  if (problems.length > 0) throw new ConfigError(problems, { adapter: adapterName })
  return {
    region,
    endpoint: parsed.endpoint,
    shards: parsed.shards ?? 2,
    leaseMs: parsed.leaseMs ?? 10_000,
    pollMs: parsed.pollMs ?? 1000,
    maxMessageBytes: parsed.maxMessageBytes ?? defaultMaxMessageBytes,
    credentials: options.credentials,
    tls,
  }
}

/** The `startAt` of a queue's or subscription's `broker` options (already checked by core). */
export function startAtOf(broker: Readonly<Record<string, unknown>>): KinesisStartAt | undefined {
  return broker.startAt as KinesisStartAt | undefined
}
