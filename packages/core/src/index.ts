export {
  connect,
  Anymq,
  transportOf,
  type ConnectOptions,
} from './connection.js'
export { Queue, type QueueOptions } from './queue.js'
export { Topic, type TopicOptions, type SubscribeOptions } from './topic.js'
export {
  Requester,
  type RequestOptions,
  type RequestReplyOptions,
} from './requester.js'
export { Responder } from './responder.js'
export type { Subscription, ConsumeOptions } from './subscription.js'
export type { Handler } from './consumer-engine.js'
export type { Message, DeadLetter } from './message.js'
export type { DeadLetters } from './dead-letters.js'
export type { SendOptions, PublishOptions } from './outgoing-message.js'
export {
  createRetryPolicy,
  defaultRetry,
  type RetryPolicy,
  type RetryPolicyOptions,
  type BackoffOptions,
} from './retry-policy.js'
export {
  jsonCodec,
  rawCodec,
  textCodec,
  type Codec,
  type CodecOption,
} from './codec.js'
export type { StandardSchemaV1 } from './schema.js'
export {
  type Capabilities,
  capabilityNames,
  describeCapability,
} from './capabilities.js'
export { registerAdapter, knownSchemes } from './adapter-registry.js'
export { consoleLogger, silentLogger, type Logger } from './logger.js'
export { redactUrl } from './redact.js'
export {
  AnymqError,
  ConfigError,
  ConnectionError,
  PublishError,
  MessageTooLargeError,
  SerializationError,
  ValidationError,
  RequestTimeoutError,
  RemoteError,
  UnsupportedFeatureError,
  ClosedError,
  AbortedError,
  Unrecoverable,
  type AnymqErrorCode,
  type ConfigProblem,
  type ValidationIssue,
} from './errors.js'
