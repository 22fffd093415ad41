export type {
  AdapterContext,
  AdapterFactory,
  Delivery,
  Destination,
  IncomingMessage,
  Inbox,
  OutgoingMessage,
  QueueSpec,
  Source,
  SubscriptionSpec,
  TopicFilter,
  Transport,
  TransportConsumeOptions,
  TransportConsumer,
} from './transport.js'
export { wireHeaders, isReservedHeader, userHeaders } from './wire-headers.js'
export {
  retryCopy,
  toOutgoing,
  attemptFromHeaders,
  describeDestination,
} from './republish-retry.js'
export { subjectMatches, filterMatches } from './topic-filter.js'
export { messageSize } from './message-size.js'
export { parseUrlOptions, type UrlOptionSpec } from './url-options.js'
export type { Capabilities } from '../capabilities.js'
export type { Logger } from '../logger.js'
export * from '../errors.js'
export { redactUrl, redactText, registerSecret } from '../redact.js'
