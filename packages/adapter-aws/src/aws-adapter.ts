import { type AdapterFactory, type Capabilities, ConnectionStateTracker } from '@anymq/core/spi'
import { parseConfig, queueBrokerOptions } from './aws-config.js'
import { adapterName } from './aws-errors.js'
import { AwsTransport } from './aws-transport.js'

/**
 * What SQS and SNS do, as anymq uses them. Declared for the default connection (`queueType=standard`);
 * `?queueType=fifo` makes every queue FIFO and trades delay for deduplication (see {@link fifoCapabilities}).
 */
export const capabilities: Capabilities = {
  // DelaySeconds: whole seconds, up to 15 minutes (standard queues; FIFO queues have no per-message delay).
  delay: { maxMs: 900_000 },
  // `ordered: true` queues are FIFO queues with the key as MessageGroupId: one key in order, across consumers.
  ordering: 'key',
  priority: false,
  expiry: 'emulated',
  // Only FIFO queues deduplicate; on a standard connection a dedupeId is refused rather than ignored.
  dedupe: false,
  persistence: true,
  // A new subscription's queue only gets what is published after it exists.
  replay: false,
  // A redrive policy (maxReceiveCount = maxAttempts + 10) backs up anymq's own dead-lettering.
  nativeDeadLetter: true,
  // SNS publishes are limited to 256 KiB (SQS alone accepts 1 MiB since 2025); body plus attributes.
  maxMessageBytes: 262_144,
  leaseExpiry: true,
  leaseExtension: true,
  topicFilters: { subject: false, headers: true },
  // SQS's approximate counts (no consumers, no oldest age), PurgeQueue, DeleteQueue/DeleteTopic, tags for list().
  admin: { stats: true, purge: true, delete: true, list: true, deadLetterById: true },
}

/** Capabilities of a `?queueType=fifo` connection: every queue FIFO, deduplicated for 5 minutes, no delay. */
export const fifoCapabilities: Capabilities = {
  ...capabilities,
  delay: false,
  dedupe: { windowMs: 300_000 },
}

/**
 * Capabilities of a `?topics=eventbridge` connection: a topic is a detail-type on a bus, no resource,
 * so topics and subscriptions cannot be deleted or listed (queue stats, purge and dead letters by id stay).
 */
export const eventBridgeCapabilities: Capabilities = {
  ...capabilities,
  admin: { stats: true, purge: true, delete: false, list: false, deadLetterById: true },
}

/** URL options that change what a connection can do, each its own column of the README's capability matrix. */
export const capabilityVariants: Record<string, Capabilities> = {
  '?queueType=fifo': fifoCapabilities,
  '?topics=eventbridge': eventBridgeCapabilities,
}

/**
 * `sqs://<region>` (AWS) or `sqs://<region>?endpoint=http://127.0.0.1:4566` (moto, LocalStack…).
 * Credentials come from the AWS provider chain (environment, shared config and SSO, IAM role), never
 * from the URL. See the README for every URL option.
 */
export const adapter: AdapterFactory = {
  name: adapterName,
  schemes: ['sqs'],
  // The semantic conventions' name; SNS and EventBridge topics deliver through SQS queues.
  messagingSystem: 'aws_sqs',
  capabilities,
  queueBrokerOptions,
  async connect(url, context) {
    const config = parseConfig(url, context.options)
    const base = config.queueType === 'fifo' ? fifoCapabilities : capabilities
    const transport = new AwsTransport(
      config,
      { ...base, maxMessageBytes: config.maxMessageBytes, ...(config.topics === 'eventbridge' ? { admin: eventBridgeCapabilities.admin } : {}) },
      context.logger,
      new ConnectionStateTracker(context.reportConnectionState),
    )
    await transport.open(context.signal)
    return transport
  },
}
