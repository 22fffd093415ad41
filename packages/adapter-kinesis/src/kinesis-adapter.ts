import type { AdapterFactory, Capabilities } from '@anymq/core/spi'
import { defaultMaxMessageBytes, parseConfig, queueBrokerOptions } from './kinesis-config.js'
import { adapterName } from './kinesis-errors.js'
import { KinesisTransport } from './kinesis-transport.js'

/**
 * What Kinesis Data Streams do, as anymq uses them. Records stay in a stream for its retention
 * (24 h by default) whatever is read, so a new group can start at the oldest one (`replay`); a key is
 * the partition key, so one key lives on one shard, read by one worker of a group at a time.
 */
export const capabilities: Capabilities = {
  // No per-record delay in Kinesis: a delayed send is refused. Retries wait out their backoff in the
  // consumer that holds them (the checkpoint stays behind them), without blocking the shard.
  delay: false,
  ordering: 'key',
  priority: false,
  expiry: 'emulated',
  dedupe: false,
  persistence: true,
  replay: true,
  nativeDeadLetter: false,
  // A record is 1 MiB (data plus partition key); anymq keeps 4 KiB of it for its envelope.
  maxMessageBytes: defaultMaxMessageBytes,
  // Leases are per shard, not per record: a handler that holds a record is not timed out.
  leaseExpiry: false,
  leaseExtension: false,
  // Evaluated by the consumer: records a subscription filters out are checkpointed past.
  topicFilters: { subject: true, headers: true },
  // Streams and lease tables can be listed and deleted; records cannot be counted cheaply nor removed.
  admin: { stats: false, purge: false, delete: true, list: true, deadLetterById: false },
}

/**
 * `kinesis://<region>` (AWS) or `kinesis://<region>?endpoint=http://127.0.0.1:5000` (moto,
 * LocalStack…). Credentials come from the AWS provider chain (environment, shared config and SSO,
 * IAM role) or `connect(url, { broker: { credentials } })`, never from the URL. URL options:
 * `?shards=2`, `?leaseMs=10000`, `?pollMs=1000`, `?maxMessageBytes=`. See the README.
 */
export const adapter: AdapterFactory = {
  name: adapterName,
  schemes: ['kinesis'],
  capabilities,
  queueBrokerOptions,
  async connect(url, context) {
    const config = parseConfig(url, context.options)
    const transport = new KinesisTransport(config, { ...capabilities, maxMessageBytes: config.maxMessageBytes }, context.logger)
    await transport.open(context.signal)
    return transport
  },
}
