export { abortable } from '../abortable.js'
export { copyBytes } from '../byte-slab.js'
export type { AdminCapabilities, Capabilities } from '../capabilities.js'
export { codecCheck, resolveCodec } from '../codec.js'
export { queueBrokerOptionsOf } from '../connection.js'
export * from '../errors.js'
export type { Logger } from '../logger.js'
export {
  abortSignal,
  anything,
  describeValue,
  either,
  integer,
  nameCheck,
  type OptionCheck,
  type OptionShape,
  objectOf,
  ofType,
  oneOf,
  required,
  standardSchema,
  stringRecord,
  validateOptions,
  variant,
  withMembers,
} from '../options-validation.js'
export { encodeOutgoing, type OutgoingContext, prepareOutgoing } from '../outgoing-message.js'
export { sendOptionChecks } from '../queue.js'
export { redactText, redactUrl, registerSecret } from '../redact.js'
export { retryPolicyCheck } from '../retry-policy.js'
export { validateBody, validateBodySync } from '../schema.js'
export { publishOptionChecks } from '../topic.js'
export type { AdminTarget, BrokerStats, ListedDestination, TransportAdmin } from './admin.js'
export type { AsyncApiBindings, AsyncApiChannelInfo } from './asyncapi-bindings.js'
export { CloseDeadline } from './close-deadline.js'
export { type CloudEventsHeaders, defaultCloudEventsHeaders } from './cloud-events-headers.js'
export { type ConnectCheckOptions, checkWithin } from './connect-check.js'
export type { ConnectionState, ConnectionStateChange } from './connection-state.js'
export { ConnectionStateTracker } from './connection-state-tracker.js'
export { messageSize } from './message-size.js'
export {
  attemptFromHeaders,
  describeDestination,
  republishCopy,
  retryCopy,
} from './republish-retry.js'
export { settlesWithin } from './settles-within.js'
export { SharedTurnBatch } from './shared-turn-batch.js'
export { errorsIn, explainConnectionFailure, tlsFailureOf } from './tls-failure.js'
export { readTlsOptions, type TlsUrlValues, tlsUrlOptions } from './tls-options.js'
export { filterMatches, subjectMatches } from './topic-filter.js'
export type {
  AdapterContext,
  AdapterFactory,
  Delivery,
  Destination,
  Inbox,
  IncomingMessage,
  OutgoingMessage,
  QueueSpec,
  Source,
  SubscriptionSpec,
  TopicFilter,
  Transport,
  TransportConsumeOptions,
  TransportConsumer,
} from './transport.js'
export { TurnBatch, type TurnBatchEntry } from './turn-batch.js'
export { decodeUrlPart, parseUrlOptions, type UrlOptionSpec } from './url-options.js'
export { isReservedHeader, userHeaders, wireHeaders } from './wire-headers.js'
