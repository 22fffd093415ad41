export { knownSchemes, registerAdapter } from './adapter-registry.js'
export type { AsyncApiDocument, AsyncApiInfo } from './asyncapi/asyncapi-document.js'
export { type JsonSchema, toJsonSchema } from './asyncapi/json-schema.js'
export type { BlobStore } from './blob-store.js'
export {
  type Bridge,
  type BridgeOptions,
  type BridgeQueueRoute,
  type BridgeReport,
  type BridgeRouteReport,
  type BridgeSubscriptionRoute,
  bridge,
} from './bridge.js'
export {
  type AdminCapabilities,
  adminCapabilityNames,
  type Capabilities,
  capabilityNames,
  describeCapability,
} from './capabilities.js'
export { type ClaimCheckOptions, sweepClaimChecks } from './claim-check.js'
export { type CloudEvent, type ReceivedCloudEvent, validateCloudEvent } from './cloudevents/cloud-event.js'
export { type CloudEventsCodecOptions, cloudEvents } from './cloudevents/cloud-events-codec.js'
export {
  type Codec,
  type CodecOption,
  type EnvelopeContext,
  type EnvelopeParts,
  jsonCodec,
  type MessageEnvelope,
  rawCodec,
  textCodec,
} from './codec.js'
export {
  Anymq,
  type ConnectOptions,
  connect,
  transportOf,
} from './connection.js'
export type { ConnectionEvent, HealthReport } from './connection-health.js'
export type { Handler } from './consumer-engine.js'
export type { DeadLetters } from './dead-letters.js'
export type { DestinationStats } from './destination-stats.js'
export {
  AbortedError,
  AnymqError,
  type AnymqErrorCode,
  ClosedError,
  ConfigError,
  type ConfigProblem,
  ConnectionError,
  type ConnectionFailure,
  MessageTooLargeError,
  PublishError,
  RemoteError,
  RequestTimeoutError,
  SerializationError,
  Unrecoverable,
  UnsupportedFeatureError,
  ValidationError,
  type ValidationIssue,
} from './errors.js'
export { FileBlobStore, type FileBlobStoreOptions } from './file-blob-store.js'
export type { IdempotencyOptions, IdempotencyOutcome, IdempotencyProcessOptions, IdempotencyStore } from './idempotency-store.js'
export { consoleLogger, type Logger, silentLogger } from './logger.js'
export { MemoryBlobStore } from './memory-blob-store.js'
export { MemoryIdempotencyStore, type MemoryIdempotencyStoreOptions, memoryIdempotencyStore } from './memory-idempotency-store.js'
export type { DeadLetter, Message } from './message.js'
export type { PublishOptions, SendOptions } from './outgoing-message.js'
export { Queue, type QueueOptions } from './queue.js'
export { redactUrl } from './redact.js'
export {
  Requester,
  type RequestOptions,
  type RequestReplyOptions,
} from './requester.js'
export { Responder } from './responder.js'
export {
  type BackoffOptions,
  createRetryPolicy,
  defaultRetry,
  type RetryPolicy,
  type RetryPolicyOptions,
} from './retry-policy.js'
export {
  type GatherFailure,
  type GatherOptions,
  type GatherReply,
  type GatherResult,
  type GatherTarget,
  ScatterGather,
} from './scatter-gather.js'
export type { StandardSchemaV1 } from './schema.js'
export type { ListedDestination } from './spi/admin.js'
export type { ConnectionState } from './spi/connection-state.js'
export type { ConsumeOptions, Subscription } from './subscription.js'
export { type SubscribeOptions, Topic, type TopicOptions } from './topic.js'
export { TopicResponder } from './topic-responder.js'
