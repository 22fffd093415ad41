export type { Capabilities } from '../capabilities.js'
export { resolveCodec } from '../codec.js'
export * from '../errors.js'
export type { Logger } from '../logger.js'
export { encodeOutgoing, type OutgoingContext, prepareOutgoing } from '../outgoing-message.js'
export { redactText, redactUrl, registerSecret } from '../redact.js'
export { validateBody, validateBodySync } from '../schema.js'
export { messageSize } from './message-size.js'
export {
  attemptFromHeaders,
  describeDestination,
  retryCopy,
  toOutgoing,
} from './republish-retry.js'
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
export { parseUrlOptions, type UrlOptionSpec } from './url-options.js'
export { isReservedHeader, userHeaders, wireHeaders } from './wire-headers.js'
