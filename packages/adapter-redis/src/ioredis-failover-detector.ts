import type { Redis } from 'ioredis'

interface DetectorSentinel {
  address?: { host?: string; port?: number }
  client?: { listenerCount(event: string): number; on(event: 'error', listener: (error: unknown) => void): unknown }
}

/**
 * ioredis' failover detector (Sentinel mode, `failoverDetector: true`) keeps a SUBSCRIBE connection
 * to every Sentinel and gives it no `error` listener (ioredis #1346): a reset of one is printed as
 * "[ioredis] Unhandled error event" on console.error, past the logger, once per connection and
 * Sentinel. This gives each of them `onError`, with the Sentinel's address. ioredis makes a new set
 * after every reconnection, so it runs on each `connect`, `failoverSubscribed` (and `ready`, in case
 * that event goes). The connections are reached through ioredis internals, checked at each step: should a later
 * ioredis move them, this does nothing and the console lines come back.
 */
export function reportFailoverDetectorErrors(client: Redis, onError: (sentinel: string, error: unknown) => void): void {
  const attach = () => {
    const detector = (client as unknown as { connector?: { failoverDetector?: { sentinels?: unknown } } }).connector?.failoverDetector
    const sentinels = detector?.sentinels
    if (!Array.isArray(sentinels)) return
    for (const sentinel of sentinels as DetectorSentinel[]) {
      const connection = sentinel?.client
      if (!connection || typeof connection.on !== 'function' || connection.listenerCount('error') > 0) continue
      const where = `${sentinel.address?.host ?? '127.0.0.1'}:${sentinel.address?.port ?? 26379}`
      connection.on('error', (error) => onError(where, error))
    }
  }
  // 'connect' comes right after ioredis made a new set (synchronously, on the same socket event) and
  // before they connect: a Sentinel refusing that first connection errors before 'failoverSubscribed'.
  client.on('connect', attach)
  client.on('failoverSubscribed', attach)
  client.on('ready', attach)
}
