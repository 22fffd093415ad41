import { describe } from 'vitest'
import { acknowledgementCases } from './cases/acknowledgement.js'
import { adminCases } from './cases/admin.js'
import { claimCheckCases } from './cases/claim-check.js'
import { cloudEventsCases } from './cases/cloud-events.js'
import { delayCases } from './cases/delay.js'
import { idempotencyCases } from './cases/idempotency.js'
import { lifecycleCases } from './cases/lifecycle.js'
import { observabilityCases } from './cases/observability.js'
import { orderingCases } from './cases/ordering.js'
import { priorityCases } from './cases/priority.js'
import { queueCases } from './cases/queue.js'
import { recoveryCases } from './cases/recovery.js'
import { requestReplyCases } from './cases/request-reply.js'
import { retryCases } from './cases/retry.js'
import { roundTripCases } from './cases/round-trip.js'
import { scatterGatherCases } from './cases/scatter-gather.js'
import { topicCases } from './cases/topic.js'
import { type ConformanceGroup, conformanceGroups } from './conformance-groups.js'
import { type ConformanceTarget, Harness } from './harness.js'

const groups: Record<ConformanceGroup, (harness: Harness) => void> = {
  // CloudEvents ride with the round trip, so that every adapter (and each of its configurations) runs them.
  'round-trip': (harness) => {
    roundTripCases(harness)
    cloudEventsCases(harness)
  },
  queue: queueCases,
  topic: topicCases,
  acknowledgement: acknowledgementCases,
  retry: retryCases,
  'request-reply': requestReplyCases,
  'scatter-gather': scatterGatherCases,
  idempotency: idempotencyCases,
  'claim-check': claimCheckCases,
  ordering: orderingCases,
  priority: priorityCases,
  delay: delayCases,
  lifecycle: lifecycleCases,
  recovery: recoveryCases,
  admin: adminCases,
  observability: observabilityCases,
}

/**
 * Registers the shared conformance suite for one adapter configuration. Every case makes its own
 * uniquely named queues and topics. A feature the target's capabilities declare must work; one they
 * do not declare must be refused with `UnsupportedFeatureError`.
 */
export function describeConformance(target: ConformanceTarget): void {
  describe(`anymq conformance: ${target.name}`, () => {
    const harness = new Harness(target)
    // In the order of conformanceGroups (observability last), whatever the order of the record.
    for (const name of conformanceGroups) {
      if (!target.groups || target.groups.includes(name)) groups[name](harness)
    }
  })
}
