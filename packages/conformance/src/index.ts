export { describeConformance } from './describe-conformance.js'
export {
  brokerUrl,
  Collector,
  deferred,
  uniqueName,
  withTimeout,
  type ConformanceGroup,
  type ConformanceHooks,
  type ConformanceTarget,
} from './harness.js'
export { waitUntil } from './cases/retry.js'
export { orderSchema } from './cases/round-trip.js'
