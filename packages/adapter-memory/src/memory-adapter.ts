import { type AdapterFactory, type Capabilities, ConfigError, type ConfigProblem, objectOf, parseUrlOptions } from '@anymq/core/spi'
import { brokerNamed } from './memory-broker.js'
import { MemoryTransport } from './memory-transport.js'

/** What the embedded broker does: everything, so it can be the reference the others are compared with. */
export const capabilities: Capabilities = {
  delay: { maxMs: 24 * 86_400_000 },
  ordering: 'key',
  priority: true,
  expiry: 'emulated',
  dedupe: { windowMs: 300_000 },
  persistence: false,
  replay: true,
  nativeDeadLetter: false,
  maxMessageBytes: 1_048_576,
  leaseExpiry: true,
  leaseExtension: true,
  topicFilters: { subject: true, headers: true },
  admin: { stats: true, purge: true, delete: true, list: true, deadLetterById: true },
}

const urlOptions = {
  maxMessageBytes: {
    type: 'integer',
    min: 1,
    max: 512 * 1_048_576,
    description: 'size limit to emulate a broker (262144 for SQS)',
  },
  topicRetention: {
    type: 'integer',
    min: 0,
    max: 10_000_000,
    description: "messages kept per topic for startFrom: 'earliest'",
  },
} as const

/**
 * `memory://` (the process-wide broker) or `memory://<name>` (a separate one). URL options:
 * `?maxMessageBytes=262144` to emulate a smaller broker, `?topicRetention=10000`.
 */
export const adapter: AdapterFactory = {
  name: 'memory',
  schemes: ['memory'],
  capabilities,
  // The embedded broker takes no `broker` options, on connect() or on a queue or topic.
  queueBrokerOptions: {},
  async connect(url, context) {
    const problems: ConfigProblem[] = []
    const options = parseUrlOptions(url, urlOptions, 'memory', problems)
    objectOf({})(context.options, 'broker', problems)
    if (problems.length > 0) throw new ConfigError(problems, { adapter: 'memory' })
    const name = `${url.host}${url.pathname === '/' ? '' : url.pathname}`
    const broker = brokerNamed(name, options.topicRetention ?? 10_000)
    return new MemoryTransport(broker, {
      ...capabilities,
      maxMessageBytes: options.maxMessageBytes ?? capabilities.maxMessageBytes,
    })
  },
}
