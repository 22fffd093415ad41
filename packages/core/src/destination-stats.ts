import { adminFor } from './admin-access.js'
import { deadLetterSpec } from './consumer-engine.js'
import type { Runtime } from './runtime.js'
import type { Source } from './spi/transport.js'

/**
 * Depths of one queue or subscription at the moment of the call. Numbers a broker does not report are
 * `undefined`, never a guess; brokers that count approximately (SQS) say so in their README.
 */
export interface DestinationStats {
  /** `orders`, or `order-events/invoicing` for a subscription. */
  name: string
  /** Messages waiting to be delivered; where `inFlight` is `undefined` (a log's consumer lag), delivered and unsettled ones too. */
  ready: number
  /** Delivered to a consumer and not yet settled. */
  inFlight: number | undefined
  /** Messages in its dead-letter queue; 0 when it has none (`deadLetter: false`). */
  deadLettered: number | undefined
  /** Consumers attached right now. */
  consumers: number | undefined
  /** Age of the oldest waiting message in milliseconds, when the broker tells. */
  oldestAgeMs: number | undefined
}

/** Reads the stats of `source` and of its dead-letter queue. Rejects with `UnsupportedFeatureError` when the adapter does not declare `admin.stats`. */
export async function readStats(runtime: Runtime, source: Source, name: string, deadLetter: string | false): Promise<DestinationStats> {
  const admin = adminFor(runtime, 'stats', 'stats()')
  const [own, dead] = await Promise.all([
    admin.stats(source),
    deadLetter === false ? undefined : admin.stats({ kind: 'queue', queue: deadLetterSpec(deadLetter) }),
  ])
  return {
    name,
    ready: own.ready,
    inFlight: own.inFlight,
    deadLettered: deadLetter === false ? 0 : dead?.ready,
    consumers: own.consumers,
    oldestAgeMs: own.oldestAgeMs,
  }
}
