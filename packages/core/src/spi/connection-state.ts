/** Where a connection stands: open, lost and being re-established by the adapter, or closed for good. */
export type ConnectionState = 'connected' | 'reconnecting' | 'closed'

/** What an adapter reports through `AdapterContext.reportConnectionState`. */
export interface ConnectionStateChange {
  state: ConnectionState
  /** Why the connection was lost (for `reconnecting`, and `closed` when the adapter gave up). */
  cause?: Error
}
