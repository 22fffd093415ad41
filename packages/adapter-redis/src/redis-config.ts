import type { ConnectionOptions as TlsOptions } from 'node:tls'
import {
  ConfigError,
  type ConfigProblem,
  decodeUrlPart,
  type OptionCheck,
  type OptionShape,
  objectOf,
  ofType,
  oneOf,
  parseUrlOptions,
  readTlsOptions,
  registerSecret,
  tlsUrlOptions,
} from '@anymq/core/spi'
import { driverNames, type RedisDriverName } from './redis-driver.js'
import { type WireLayout, wireLayouts } from './redis-wire.js'

/** Everything a Redis connection needs, read once from the URL and `connect(url, { broker })`. */
export interface RedisSettings {
  /** Client library: `node-redis` (@redis/client, the default) or `ioredis`. */
  driver: RedisDriverName
  host: string
  port: number
  /** `redis+sentinel://`: the Sentinels to ask for the current primary of {@link masterName}. */
  sentinels: Array<{ host: string; port: number }> | undefined
  masterName: string | undefined
  natMap: Record<string, { host: string; port: number }> | undefined
  /** Replicas that must have every write before a publish resolves (Redis `WAIT`); 0 = the primary's reply. */
  waitReplicas: number
  waitTimeoutMs: number
  username: string | undefined
  password: string | undefined
  db: number
  tls: TlsOptions | undefined
  /** First part of every key anymq writes: `<prefix>:q:<queue>`, `<prefix>:t:<topic>`… */
  prefix: string
  /** How long one blocking XREADGROUP / XREAD waits before it returns empty, in ms. */
  blockMs: number
  /** Lease of consumers that were given no `leaseMs`: entries of a consumer silent this long are reclaimed. */
  defaultLeaseMs: number
  /** How long a topic keeps entries every subscription has acknowledged, for `startFrom: 'earliest'`. */
  topicRetentionMs: number
  /** How often delayed messages and retries are moved into their stream when due, in ms. */
  delayPollMs: number
  maxMessageBytes: number
  connectTimeoutMs: number
  /** How long the command connection may owe answers without getting any before its socket is dropped; 0 = never. */
  answerTimeoutMs: number
  connectionName: string | undefined
  /** The stream entry layout producers write (readers take both): `packed` (default) or `fields`. */
  wireLayout: WireLayout
}

export const urlOptions = {
  driver: { type: 'enum', values: driverNames, description: 'Redis client library: node-redis (default) or ioredis' },
  prefix: { type: 'string', description: 'key prefix (default anymq)' },
  blockMs: {
    type: 'integer',
    min: 10,
    max: 10_000,
    description: 'longest wait of one blocking read in ms (default 1000)',
  },
  leaseMs: {
    type: 'integer',
    min: 100,
    max: 86_400_000,
    description: 'lease of consumers given no leaseMs (default 30000)',
  },
  topicRetentionMs: {
    type: 'integer',
    min: 0,
    max: 30 * 86_400_000,
    description: 'how long topics keep acknowledged entries for replay (default 3600000)',
  },
  delayPollMs: {
    type: 'integer',
    min: 10,
    max: 60_000,
    description: 'how often due delayed messages are moved (default 200)',
  },
  maxMessageBytes: {
    type: 'integer',
    min: 1,
    max: 512 * 1_048_576,
    description: 'largest message accepted, body plus headers (default 1048576)',
  },
  connectTimeoutMs: {
    type: 'integer',
    min: 100,
    max: 600_000,
    description: 'time allowed to connect, authenticate and get a first answer from Redis (default 10000)',
  },
  answerTimeoutMs: {
    type: 'integer',
    min: 0,
    max: 600_000,
    description:
      'longest the command connection may wait with commands unanswered before its socket is dropped and they are sent again on a new one (default 10000; 0 = never)',
  },
  waitReplicas: {
    type: 'integer',
    min: 0,
    max: 100,
    description: 'replicas that must acknowledge a write before a publish resolves (default 0)',
  },
  waitTimeoutMs: {
    type: 'integer',
    min: 1,
    max: 600_000,
    description: 'longest wait for those replicas, then the publish fails (default 5000)',
  },
  wireLayout: {
    type: 'enum',
    values: wireLayouts,
    description:
      'stream entry layout written: packed (default, body + one anymq JSON field) or fields (one field per property, as older anymq versions wrote and read)',
  },
  ...tlsUrlOptions,
} as const

export const defaults = {
  driver: 'node-redis' as RedisDriverName,
  prefix: 'anymq',
  blockMs: 1000,
  defaultLeaseMs: 30_000,
  topicRetentionMs: 3_600_000,
  delayPollMs: 200,
  maxMessageBytes: 1_048_576,
  connectTimeoutMs: 10_000,
  answerTimeoutMs: 10_000,
  waitTimeoutMs: 5_000,
  wireLayout: 'packed' as WireLayout,
} as const

/** Options of `connect(url, { broker: { … } })` for Redis. */
export interface RedisBrokerOptions {
  /** Client library, as `?driver=`: `node-redis` (default) or `ioredis`. */
  driver?: RedisDriverName
  /**
   * TLS settings for `rediss://`, passed to Node's `tls.connect`: `ca`, `cert`, `key` (PEM text, Buffers
   * or file paths), `passphrase`, `servername`, `rejectUnauthorized`… Checked at `connect()`. The same
   * names work as URL parameters for file paths: `rediss://user:pass@host:6380?ca=/etc/ssl/ca.pem`.
   */
  tls?: TlsOptions
  /** Shown in `CLIENT LIST`; anymq appends `:commands`, `:consumer` or `:inbox`. */
  connectionName?: string
  /** Password when it should not be in the URL. */
  password?: string
  /** ACL user name when it should not be in the URL. */
  username?: string
  /**
   * Through Sentinel: addresses to use instead of the ones Sentinel reports, `{ 'host:port': { host, port } }`
   * (ioredis' `natMap`; both drivers honour it), for primaries behind NAT, a container network or a proxy.
   */
  natMap?: Record<string, { host: string; port: number }>
}

const brokerOptionChecks: Record<keyof RedisBrokerOptions, OptionCheck> = {
  driver: oneOf(...driverNames),
  tls: ofType('object', 'an object of tls.connect options'),
  connectionName: ofType('string'),
  password: ofType('string'),
  username: ofType('string'),
  natMap: ofType('object', "an object { 'host:port': { host, port } }"),
}

/** Checks of `queue(name, { broker })` and `subscribe(…, { broker })`: the Redis adapter takes none. */
export const queueBrokerOptions: OptionShape = {}

/** Reads the URL and broker options; every problem is reported at once in one {@link ConfigError}. */
export function readSettings(url: URL, broker: Readonly<Record<string, unknown>>, hosts: readonly string[] = []): RedisSettings {
  const problems: ConfigProblem[] = []
  const options = parseUrlOptions(url, urlOptions, 'redis', problems)
  objectOf(brokerOptionChecks)(broker, 'broker', problems)
  // A `tls` that is not an object is reported by the check above; here only its contents are read.
  const tlsObject = typeof broker.tls === 'object' && broker.tls !== null && !Array.isArray(broker.tls) ? broker.tls : undefined
  const tls = readTlsOptions(options, tlsObject, 'broker.tls', problems)
  if (tls !== undefined && !url.protocol.startsWith('rediss'))
    problems.push({ field: 'broker.tls', message: 'TLS settings need a rediss:// URL (this one is redis://)' })
  // `redis+sentinel://sentinel1:26379,sentinel2:26379/<master name>[/<db>]`: the path names the
  // monitored primary, as Sentinel's own `sentinel monitor <name>` and ioredis' `name` option do.
  const sentinelMode = url.protocol.endsWith('+sentinel:')
  const segments = url.pathname.replace(/^\//, '').split('/')
  const masterName = sentinelMode ? decodeURIComponent(segments.shift() ?? '') : undefined
  if (sentinelMode && !masterName)
    problems.push({ field: 'url path', message: 'missing the master name; expected redis+sentinel://host:26379,host2:26379/mymaster' })
  const path = segments.join('/')
  const db = path === '' ? 0 : Number(path)
  if (!Number.isInteger(db) || db < 0 || db > 10_000) problems.push({ field: 'url path', message: `'/${path}' is not a database number` })
  const sentinels = sentinelMode
    ? (hosts.length > 0 ? hosts : [url.host]).map((host) => {
        const parsed = new URL(`redis://${host}`)
        return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: parsed.port === '' ? 26379 : Number(parsed.port) }
      })
    : undefined
  const port = url.port === '' ? 6379 : Number(url.port)
  if (url.hostname === '') problems.push({ field: 'url host', message: 'missing; expected e.g. redis://127.0.0.1:6379' })
  const prefix = options.prefix ?? defaults.prefix
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(prefix)) problems.push({ field: 'url ?prefix', message: `'${prefix}' must be 1 to 64 letters, digits, '.', '_' or '-'` })
  if (problems.length > 0) throw new ConfigError(problems, { adapter: 'redis' })

  const password = (broker.password as string | undefined) ?? (url.password === '' ? undefined : decodeUrlPart(url.password))
  registerSecret(password)
  const username = (broker.username as string | undefined) ?? (url.username === '' ? undefined : decodeUrlPart(url.username))
  const secure = url.protocol === 'rediss:' || url.protocol === 'rediss+sentinel:'
  return {
    driver: ((broker.driver as string | undefined) ?? options.driver ?? defaults.driver) as RedisDriverName,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    sentinels,
    masterName,
    natMap: broker.natMap as RedisSettings['natMap'],
    waitReplicas: options.waitReplicas ?? 0,
    waitTimeoutMs: options.waitTimeoutMs ?? defaults.waitTimeoutMs,
    username,
    password,
    db,
    tls: secure ? { ...tls } : undefined,
    prefix,
    blockMs: options.blockMs ?? defaults.blockMs,
    defaultLeaseMs: options.leaseMs ?? defaults.defaultLeaseMs,
    topicRetentionMs: options.topicRetentionMs ?? defaults.topicRetentionMs,
    delayPollMs: options.delayPollMs ?? defaults.delayPollMs,
    maxMessageBytes: options.maxMessageBytes ?? defaults.maxMessageBytes,
    connectTimeoutMs: options.connectTimeoutMs ?? defaults.connectTimeoutMs,
    answerTimeoutMs: options.answerTimeoutMs ?? defaults.answerTimeoutMs,
    connectionName: broker.connectionName as string | undefined,
    wireLayout: (options.wireLayout ?? defaults.wireLayout) as WireLayout,
  }
}

/**
 * What a connection is for: publishing and settling (`commands`), one consumer's or inbox's blocking
 * reads, or an inbox's subscription to the replies PUBLISHed to it (`replies`).
 */
export type ConnectionRole = 'commands' | 'consumer' | 'inbox' | 'replies'
