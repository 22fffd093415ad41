import type { ConnectionStateChange } from './connection-state.js'

/**
 * For adapters whose client keeps no one connection to watch (per-request HTTP/gRPC, a client that
 * dials each broker as needed): a request that fails in a way the client recovers from by itself is
 * a loss (`reconnecting`, with the cause, once per failed request); the next request that succeeds
 * means the connection is back (`connected`, reported once).
 */
export class ConnectionStateTracker {
  private lost = false

  /** `report` is `AdapterContext.reportConnectionState`; absent, the tracker does nothing. */
  constructor(private readonly report: ((change: ConnectionStateChange) => void) | undefined) {}

  /** A request failed; counts only when `recoverable` (the client will try again: network, broker down). */
  failed(error: unknown, recoverable: boolean): void {
    if (!recoverable || !this.report) return
    this.lost = true
    this.report({ state: 'reconnecting', cause: error instanceof Error ? error : new Error(String(error)) })
  }

  /** A request succeeded. */
  working(): void {
    if (!this.lost || !this.report) return
    this.lost = false
    this.report({ state: 'connected' })
  }
}
