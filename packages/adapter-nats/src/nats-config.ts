import type { ConnectionOptions as TlsOptions } from 'node:tls'
import {
  ConfigError,
  type ConfigProblem,
  decodeUrlPart,
  type OptionCheck,
  objectOf,
  ofType,
  parseUrlOptions,
  readTlsOptions,
  registerSecret,
  tlsUrlOptions,
} from '@anymq/core/spi'

/** Everything a NATS connection needs, read once from the URL and `connect(url, { broker })`. */
export interface NatsSettings {
  /** `host:port` of every server of the URL (`nats://a:4222,b:4222`). */
  servers: string[]
  user: string | undefined
  pass: string | undefined
  token: string | undefined
  /** Node `tls.connect` options when TLS is required (`?tls=true` or any TLS setting); else the server decides. */
  tls: TlsOptions | undefined
  /** First part of every stream (`ANYMQ_Q_…`) and subject (`anymq.q.…`) anymq creates. */
  prefix: string
  /** AckWait of consumers given no `leaseMs`: an unsettled message is redelivered after it. */
  ackWaitMs: number
  /** How long a topic stream keeps messages, for subscriptions that are away and for `startFrom: 'earliest'`. */
  topicMaxAgeMs: number
  /** Longest wait of one pull request for messages. */
  fetchExpiresMs: number
  /** Stream replicas (1 for a single server; 3 in a cluster). */
  replicas: number
  storage: 'file' | 'memory'
  connectTimeoutMs: number
  connectionName: string | undefined
}

export const urlOptions = {
  prefix: { type: 'string', description: 'stream and subject prefix (default anymq)' },
  ackWaitMs: { type: 'integer', min: 100, max: 86_400_000, description: 'lease of consumers given no leaseMs (default 30000)' },
  topicMaxAgeMs: {
    type: 'integer',
    min: 1000,
    max: 365 * 86_400_000,
    description: 'how long topic streams keep messages (default 86400000)',
  },
  fetchExpiresMs: { type: 'integer', min: 1000, max: 60_000, description: 'longest wait of one pull request (default 1000)' },
  replicas: { type: 'integer', min: 1, max: 5, description: 'stream replicas (default 1)' },
  storage: { type: 'string', description: 'stream storage, file or memory (default file)' },
  tls: { type: 'boolean', description: 'require TLS (default false; implied by any TLS setting)' },
  connectTimeoutMs: { type: 'integer', min: 100, max: 600_000, description: 'time allowed to connect (default 10000)' },
  ...tlsUrlOptions,
} as const

export const defaults = {
  prefix: 'anymq',
  ackWaitMs: 30_000,
  topicMaxAgeMs: 86_400_000,
  fetchExpiresMs: 1000,
  replicas: 1,
  storage: 'file',
  connectTimeoutMs: 10_000,
} as const

/** Options of `connect(url, { broker: { … } })` for NATS. */
export interface NatsBrokerOptions {
  /** Shown in the server's connection list (`/connz`). */
  connectionName?: string
  /** User and password when they should not be in the URL. */
  user?: string
  pass?: string
  /** Token when it should not be in the URL. */
  token?: string
  /**
   * TLS settings, passed to Node's `tls.connect`: `ca`, `cert`, `key` (PEM text, Buffers or file
   * paths), `passphrase`, `servername`, `rejectUnauthorized`… Checked at `connect()`; giving any
   * requires TLS. The same names work as URL parameters for file paths: `nats://host:4222?ca=/etc/ssl/ca.pem`.
   */
  tls?: TlsOptions
}

const brokerOptionChecks: Record<keyof NatsBrokerOptions, OptionCheck> = {
  connectionName: ofType('string'),
  user: ofType('string'),
  pass: ofType('string'),
  token: ofType('string'),
  tls: ofType('object', 'an object of tls.connect options'),
}

/** Reads the URL and broker options; every problem is reported at once in one {@link ConfigError}. */
export function readSettings(url: URL, hosts: readonly string[] | undefined, broker: Readonly<Record<string, unknown>>): NatsSettings {
  const problems: ConfigProblem[] = []
  const options = parseUrlOptions(url, urlOptions, 'nats', problems)
  objectOf(brokerOptionChecks)(broker, 'broker', problems)
  const servers = (hosts && hosts.length > 0 ? [...hosts] : [url.host]).filter(Boolean)
  if (servers.length === 0) problems.push({ field: 'url host', message: 'missing; expected e.g. nats://127.0.0.1:4222' })
  const prefix = options.prefix ?? defaults.prefix
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(prefix)) problems.push({ field: 'url ?prefix', message: `'${prefix}' must be 1 to 32 letters, digits, '_' or '-'` })
  const storage = options.storage ?? defaults.storage
  if (storage !== 'file' && storage !== 'memory') problems.push({ field: 'url ?storage', message: `'${storage}' is not one of file, memory` })
  // A `tls` that is not an object is reported by the check above; here only its contents are read.
  const tlsObject = typeof broker.tls === 'object' && broker.tls !== null && !Array.isArray(broker.tls) ? broker.tls : undefined
  const tlsSettings = readTlsOptions(options, tlsObject, 'broker.tls', problems)
  if (tlsSettings !== undefined && options.tls === false)
    problems.push({ field: 'url ?tls', message: 'false, but TLS settings (ca, cert, key…) were given; leave ?tls out or set it to true' })
  if (problems.length > 0) throw new ConfigError(problems, { adapter: 'nats' })

  // nats://token@host carries a token; nats://user:pass@host a user and password. nats://user@host
  // with the password as `broker.pass` (and no `broker.user`) names the user, as the README shows.
  const userPart = url.username === '' ? undefined : decodeUrlPart(url.username)
  const passPart = url.password === '' ? undefined : decodeUrlPart(url.password)
  const urlNamesUser = passPart !== undefined || (broker.pass !== undefined && broker.user === undefined)
  const token = (broker.token as string | undefined) ?? (urlNamesUser ? undefined : userPart)
  const user = (broker.user as string | undefined) ?? (urlNamesUser ? userPart : undefined)
  const pass = (broker.pass as string | undefined) ?? passPart
  registerSecret(pass)
  registerSecret(token)
  return {
    servers: servers.map((server) => (server.includes(':') ? server : `${server}:4222`)),
    user,
    pass,
    token,
    tls: tlsSettings ?? (options.tls === true ? {} : undefined),
    prefix,
    ackWaitMs: options.ackWaitMs ?? defaults.ackWaitMs,
    topicMaxAgeMs: options.topicMaxAgeMs ?? defaults.topicMaxAgeMs,
    fetchExpiresMs: options.fetchExpiresMs ?? defaults.fetchExpiresMs,
    replicas: options.replicas ?? defaults.replicas,
    storage: storage as NatsSettings['storage'],
    connectTimeoutMs: options.connectTimeoutMs ?? defaults.connectTimeoutMs,
    connectionName: broker.connectionName as string | undefined,
  }
}
