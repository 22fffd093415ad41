import type { AdapterFactory, Capabilities } from '@anymq/core/spi'
import { readSettings } from './nats-config.js'
import { openConnection } from './nats-connection.js'
import { NatsTransport } from './nats-transport.js'

/** The server's default `max_payload` (1 MiB), less room for the headers anymq adds to a message. */
const headerAllowance = 8192
const defaultMaxPayload = 1_048_576

/**
 * What the NATS adapter does. JetStream streams on file storage keep every acknowledged publish
 * across a restart; AckWait is the lease and `+WPI` (working) extends it; a delayed message waits by
 * being put back (NAK with the remaining delay), so delays are as long as the server keeps the
 * message; an `ordered` queue lets one message be unsettled at a time across all instances (per-key
 * order, queue-wide); `dedupeId` is JetStream's `Nats-Msg-Id` within the stream's 2 minute window.
 * Subscription filters are evaluated by the consumer (anymq's `#` has no NATS equivalent).
 */
export const capabilities: Capabilities = {
  delay: { maxMs: 86_400_000 },
  ordering: 'key',
  priority: false,
  expiry: 'emulated',
  dedupe: { windowMs: 120_000 },
  persistence: true,
  replay: true,
  nativeDeadLetter: false,
  maxMessageBytes: defaultMaxPayload - headerAllowance,
  leaseExpiry: true,
  leaseExtension: true,
  topicFilters: { subject: true, headers: true },
  admin: { stats: true, purge: true, delete: true, list: true, deadLetterById: true },
}

/**
 * `nats://[user:password@|token@]host[:port][,host2:port]`. URL options:
 * `?prefix=anymq`, `?ackWaitMs=30000`, `?topicMaxAgeMs=86400000`, `?fetchExpiresMs=1000`,
 * `?replicas=1`, `?storage=file`, `?tls=false`, `?connectTimeoutMs=10000`. Broker options:
 * `{ connectionName, user, pass, token }`.
 */
export const adapter: AdapterFactory = {
  name: 'nats',
  schemes: ['nats'],
  // CloudEvents NATS protocol binding: `ce-` headers, datacontenttype in the `content-type` header.
  cloudEvents: { attributePrefix: 'ce-', contentTypeHeader: 'content-type' },
  capabilities,
  async connect(url, context) {
    const settings = readSettings(url, context.hosts, context.options)
    const { connection, client, manager } = await openConnection(settings, context.logger, context.reportConnectionState, context.signal)
    const maxPayload = connection.info?.max_payload ?? defaultMaxPayload
    const maxMessageBytes = Math.min(context.capabilities.maxMessageBytes, maxPayload - headerAllowance)
    return new NatsTransport(connection, client, manager, settings, { ...context.capabilities, maxMessageBytes }, context.logger)
  },
}
