export { waitUntil } from './cases/retry.js'
export { orderSchema } from './cases/round-trip.js'
export { conformanceGroups } from './conformance-groups.js'
export { type ConnectSignalTarget, describeConnectSignal } from './connect-signal.js'
export { describeConnectionRefusals, everythingIn, type RefusalTarget, secretForms, startTlsFront, useBadCertificateFronts } from './connection-refusals.js'
export { type DeletedUnderConnectionTarget, describeDeletedUnderConnection } from './deleted-under-connection.js'
export { describeConformance } from './describe-conformance.js'
export { describeForeignMessages, type ForeignMessageTarget } from './foreign-messages.js'
export { describeFrozenClose, endpointParamRelay, type FrozenCloseTarget } from './frozen-close.js'
export {
  brokerUrl,
  Collector,
  type ConformanceGroup,
  type ConformanceHooks,
  type ConformanceTarget,
  consumerHoldingFirst,
  deferred,
  uniqueName,
  withTimeout,
} from './harness.js'
export { outgoingMessage } from './outgoing-message.js'
export { type SilentServer, startSilentServer } from './silent-server.js'
export { startTcpRelay, type TcpRelay } from './tcp-relay.js'
export { TelemetryCapture, telemetryCapture } from './telemetry-capture.js'
