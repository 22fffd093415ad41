import type { AdapterFactory, Capabilities } from '@anymq/core/spi'
import { defaults, queueBrokerOptions, type RedisSettings, readSettings } from './redis-config.js'
import { connectionStateReporter } from './redis-connection-state.js'
import type { RedisDriver } from './redis-driver.js'
import { dedupeWindowMs } from './redis-publisher.js'
import { RedisTransport } from './redis-transport.js'

/**
 * What the Redis adapter does. Streams keep entries until acknowledged (persistence as configured on
 * the server: AOF with `appendfsync always` loses nothing acknowledged). Delays and retries wait in a
 * sorted set; leases are the idle time of pending entries; subscription filters are evaluated by the
 * consumer (non-matching entries are acknowledged for that subscription only). Priority is emulated on
 * queues made with `maxPriority`: their messages wait in a sorted set and the stream carries turns
 * (see `redis-priority.ts`). A `dedupeId` is a key of its own, set for the window by the script that writes
 * the message (`anymqOnce`).
 */
export const capabilities: Capabilities = {
  delay: { maxMs: 2_147_483_647 },
  ordering: 'key',
  priority: true,
  priorityQueues: 'declared',
  expiry: 'emulated',
  dedupe: { windowMs: dedupeWindowMs },
  persistence: true,
  replay: true,
  nativeDeadLetter: false,
  maxMessageBytes: defaults.maxMessageBytes,
  leaseExpiry: true,
  leaseExtension: true,
  topicFilters: { subject: true, headers: true },
  admin: { stats: true, purge: true, delete: true, list: true, deadLetterById: true },
}

/**
 * `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS); through Sentinel,
 * `redis+sentinel://[user:password@]sentinel1:26379,sentinel2:26379/<master name>[/db]` (the credentials
 * are the data nodes'). URL options: `?prefix=anymq`,
 * `?blockMs=1000`, `?leaseMs=30000`, `?topicRetentionMs=3600000`, `?delayPollMs=200`,
 * `?maxMessageBytes=1048576`, `?connectTimeoutMs=10000`, `?answerTimeoutMs=10000` (a command connection owing
 * answers and getting none this long drops its socket), `?waitReplicas=0` (with replicas: a publish
 * resolves only once that many replicas have it, Redis `WAIT`), `?waitTimeoutMs=5000`. Broker options: `{ tls, connectionName,
 * username, password }`.
 */
export const adapter: AdapterFactory = {
  name: 'redis',
  schemes: ['redis', 'rediss', 'redis+sentinel', 'rediss+sentinel'],
  capabilities,
  queueBrokerOptions,
  async connect(url, context) {
    const settings = readSettings(url, context.options, context.hosts)
    const driver = await loadDriver(settings)
    const state = connectionStateReporter(context.reportConnectionState, context.logger)
    const commands = await driver.open(settings, 'commands', context.logger, state.onError, context.signal)
    state.watch(commands)
    return new RedisTransport(driver, commands, settings, { ...context.capabilities, maxMessageBytes: settings.maxMessageBytes }, context.logger)
  },
}

/** The driver `settings.driver` names, loaded on demand: only the chosen client library is imported. */
export async function loadDriver(settings: RedisSettings): Promise<RedisDriver> {
  if (settings.driver === 'ioredis') return (await import('./ioredis-driver.js')).ioredisDriver
  return (await import('./node-redis-driver.js')).nodeRedisDriver
}
