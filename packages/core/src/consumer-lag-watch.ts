import type { Runtime } from './runtime.js'
import type { Source } from './spi/transport.js'

/**
 * Has the connection's telemetry report the consumer lag of `source` (its `ready` count from the
 * adapter's `admin.stats`) while a consumer runs on it. Nothing happens when the adapter does not
 * declare `admin.stats`, when no MeterProvider was registered at `connect()`, or for an ephemeral
 * subscription (private to one consumer, nothing to lag behind). Returns the function that stops it.
 */
export function watchConsumerLag(runtime: Runtime, source: Source): () => void {
  const admin = runtime.transport.admin
  const watch = runtime.telemetry.watchLag
  if (watch === undefined || admin === undefined || runtime.capabilities.admin?.stats !== true) return () => {}
  if (source.kind === 'subscription' && source.subscription.name === undefined) return () => {}
  return watch.call(runtime.telemetry, source, async () => (await admin.stats(source)).ready)
}
