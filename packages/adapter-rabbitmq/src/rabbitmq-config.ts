import type { ConnectionOptions as TlsOptions } from 'node:tls'
import {
  type Capabilities,
  ConfigError,
  type ConfigProblem,
  decodeUrlPart,
  integer,
  type OptionCheck,
  objectOf,
  ofType,
  oneOf,
  parseUrlOptions,
  readTlsOptions,
  registerSecret,
  tlsUrlOptions,
} from '@anymq/core/spi'
import type { Options } from 'amqplib'
import { adapterName } from './rabbitmq-errors.js'

export type QueueType = 'classic' | 'quorum'

/** Options of `connect('amqp://…', { broker: { … } })`. */
export interface RabbitmqBrokerOptions {
  /** Queue type of durable queues and named subscriptions unless a queue says otherwise. Default `classic`. */
  queueType?: QueueType
  /** Declare queues, exchanges and bindings on first use. `false` for topology managed elsewhere. Default `true`. */
  provision?: boolean
  /**
   * TLS options for `amqps://`, passed to Node's `tls.connect`: `ca`, `cert`, `key` (PEM text, Buffers or
   * file paths), `passphrase`, `servername`, `rejectUnauthorized`… Checked at `connect()`. The same
   * names work as URL parameters for file paths: `amqps://user:pass@host/vhost?ca=/etc/ssl/ca.pem`.
   */
  tls?: TlsOptions
  /** Shown as the connection name in the management UI. Default `anymq`. */
  connectionName?: string
  /** Longest wait for the first connection, in ms. Default 10 000. */
  connectTimeoutMs?: number
  /** How long a publish waits for a lost connection to come back before failing with a retryable `ConnectionError`. Default 10 000. */
  reconnectWaitMs?: number
  /** First and longest pause between reconnection attempts, in ms. Defaults 100 and 5 000. */
  reconnectInitialDelayMs?: number
  reconnectMaxDelayMs?: number
  /**
   * How precisely a message's `timestamp` travels. `milliseconds` (default) writes the `x-anymq-timestamp`
   * header beside AMQP's `timestamp` property, which holds whole seconds. `seconds` writes the property
   * only (a message without other headers then carries an empty header table), which saves the client
   * about 1–2 µs per publish and, measured, nothing on the broker; receivers see the timestamp rounded
   * down to the second. Messages of either setting are read by both.
   */
  timestampPrecision?: TimestampPrecision
  /**
   * How often, in ms, running subscriptions bind their queue to the topic's exchange again (a no-op on the
   * broker when the binding is there). A topic exchange deleted and declared again by another process (or
   * an operator) has lost its bindings; until this check runs, what is published to it goes nowhere.
   * Default 5 000; 0 turns the check off.
   */
  bindingCheckMs?: number
}

export type TimestampPrecision = 'milliseconds' | 'seconds'

/** Options of `queue(name, { broker: { … } })` and `subscribe(name, handler, { broker: { … } })`. */
export interface RabbitmqQueueOptions {
  /** `classic` or `quorum`; default: the connection's `queueType`. */
  queueType?: QueueType
}

export interface RabbitmqConfig {
  /** The first node of the URL; `nodes` lists every node, tried in turn when one does not answer. */
  connect: Options.Connect
  nodes: Array<{ hostname: string; port: number }>
  socket: TlsOptions & { noDelay?: boolean; timeout?: number; clientProperties?: Record<string, unknown> }
  queueType: QueueType
  provision: boolean
  connectTimeoutMs: number
  reconnectWaitMs: number
  reconnectInitialDelayMs: number
  reconnectMaxDelayMs: number
  timestampPrecision: TimestampPrecision
  bindingCheckMs: number
  capabilities: Capabilities
}

const urlOptions = {
  heartbeat: { type: 'integer', min: 0, max: 65_535, description: 'heartbeat interval in seconds (0 disables); default 10' },
  frameMax: { type: 'integer', min: 0, max: 4_294_967_295, description: 'largest frame to negotiate, in bytes' },
  channelMax: { type: 'integer', min: 0, max: 65_535, description: 'most channels to negotiate' },
  locale: { type: 'string', description: 'AMQP locale' },
  maxMessageBytes: {
    type: 'integer',
    min: 1,
    max: 536_870_912,
    description: "the broker's max_message_size when it is lower than the default 128 MiB",
  },
  queueType: { type: 'enum', values: ['classic', 'quorum'], description: 'default queue type' },
  provision: { type: 'boolean', description: 'declare topology on first use' },
  timestampPrecision: { type: 'enum', values: ['milliseconds', 'seconds'], description: "'seconds' leaves out the x-anymq-timestamp header" },
  ...tlsUrlOptions,
} as const

const queueTypeCheck = oneOf('classic', 'quorum')
const longestTimer = 2_147_483_647

const brokerOptionChecks: Record<keyof RabbitmqBrokerOptions, OptionCheck> = {
  queueType: queueTypeCheck,
  provision: ofType('boolean'),
  tls: ofType('object', 'an object of Node TLS options'),
  connectionName: ofType('string'),
  connectTimeoutMs: integer(1, longestTimer),
  reconnectWaitMs: integer(0, longestTimer),
  reconnectInitialDelayMs: integer(1, longestTimer),
  reconnectMaxDelayMs: integer(1, longestTimer),
  timestampPrecision: oneOf('milliseconds', 'seconds'),
  bindingCheckMs: integer(0, longestTimer),
}

/** Checks of `queue(name, { broker })` and `subscribe(…, { broker })`, run by core when the handle is made. */
export const queueBrokerOptions: Record<keyof RabbitmqQueueOptions, OptionCheck> = { queueType: queueTypeCheck }

/** Reads the URL and the `broker` options; every problem is reported at once in one `ConfigError`. */
export function resolveConfig(url: URL, options: Readonly<Record<string, unknown>>, capabilities: Capabilities, hosts: readonly string[] = []): RabbitmqConfig {
  const problems: ConfigProblem[] = []
  const fromUrl = parseUrlOptions(url, urlOptions, adapterName, problems)
  objectOf(brokerOptionChecks)(options, 'broker', problems)
  const queueType = (options.queueType ?? fromUrl.queueType ?? 'classic') as QueueType
  const provision = (options.provision ?? fromUrl.provision ?? true) as boolean
  // A `tls` that is not an object is reported by the check above; here only its contents are read.
  const tlsObject = typeof options.tls === 'object' && options.tls !== null && !Array.isArray(options.tls) ? options.tls : undefined
  const tls = readTlsOptions(fromUrl, tlsObject, 'broker.tls', problems)
  if (tls !== undefined && url.protocol === 'amqp:') problems.push({ field: 'broker.tls', message: 'TLS settings need an amqps:// URL (this one is amqp://)' })
  const connectionName = (options.connectionName as string | undefined) ?? 'anymq'
  const connectTimeoutMs = (options.connectTimeoutMs as number | undefined) ?? 10_000
  const reconnectWaitMs = (options.reconnectWaitMs as number | undefined) ?? 10_000
  const reconnectInitialDelayMs = (options.reconnectInitialDelayMs as number | undefined) ?? 100
  const reconnectMaxDelayMs = (options.reconnectMaxDelayMs as number | undefined) ?? 5_000
  const timestampPrecision = (options.timestampPrecision ?? fromUrl.timestampPrecision ?? 'milliseconds') as TimestampPrecision
  const bindingCheckMs = (options.bindingCheckMs as number | undefined) ?? 5_000
  if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') problems.push({ field: 'url', message: 'expected amqp:// or amqps://' })
  if (problems.length > 0) throw new ConfigError(problems, { adapter: adapterName })

  const secure = url.protocol === 'amqps:'
  registerSecret(url.password)
  const connect: Options.Connect = {
    protocol: secure ? 'amqps' : 'amqp',
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: url.port ? Number(url.port) : secure ? 5671 : 5672,
    username: url.username ? decodeUrlPart(url.username) : 'guest',
    password: url.password ? decodeUrlPart(url.password) : 'guest',
    vhost: url.pathname === '' || url.pathname === '/' ? '/' : decodeUrlPart(url.pathname.slice(1)),
    heartbeat: fromUrl.heartbeat ?? 10,
    ...(fromUrl.frameMax === undefined ? {} : { frameMax: fromUrl.frameMax }),
    ...(fromUrl.channelMax === undefined ? {} : { channelMax: fromUrl.channelMax }),
    ...(fromUrl.locale === undefined ? {} : { locale: fromUrl.locale }),
  }
  // `amqp://user:pass@a:5672,b:5672,c:5672/vhost`: the nodes of one cluster, same credentials and vhost.
  const nodes = (hosts.length > 0 ? hosts : [url.host]).map((host) => {
    const parsed = new URL(`${url.protocol}//${host}`)
    return {
      hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
      port: parsed.port ? Number(parsed.port) : (connect.port as number),
    }
  })
  return {
    connect,
    nodes,
    socket: {
      // Without it Nagle's algorithm holds small frames (acks, confirms, replies) for up to 40 ms.
      noDelay: true,
      ...tls,
      timeout: connectTimeoutMs,
      clientProperties: { connection_name: connectionName, product: 'anymq' },
    },
    queueType,
    provision,
    connectTimeoutMs,
    reconnectWaitMs,
    reconnectInitialDelayMs,
    reconnectMaxDelayMs,
    timestampPrecision,
    bindingCheckMs,
    capabilities: { ...capabilities, maxMessageBytes: fromUrl.maxMessageBytes ?? capabilities.maxMessageBytes },
  }
}

/** The queue type of one queue or subscription: its `broker.queueType` (checked by core), else the connection's. */
export function queueTypeOf(broker: Readonly<Record<string, unknown>>, fallback: QueueType): QueueType {
  return (broker.queueType as QueueType | undefined) ?? fallback
}
