import { redactText } from './redact.js'
import type { ConnectionState, ConnectionStateChange } from './spi/connection-state.js'

/** A connection state change, as `mq.onConnectionState()` listeners receive it. */
export interface ConnectionEvent {
  state: ConnectionState
  /** The state before this change. */
  previous: ConnectionState
  /** Why the connection was lost, with secrets redacted from its message. */
  cause?: { name: string; code?: string; message: string }
  /** Reconnect attempts since the connection opened, this one included. */
  reconnects: number
  at: Date
}

/** What `mq.health()` returns: enough for a readiness probe, and for a human to see why it is not ready. */
export interface HealthReport {
  /** True only while `connected`: a readiness probe should fail otherwise. */
  ready: boolean
  state: ConnectionState
  /** When the connection entered this state. */
  since: Date
  /** Reconnect attempts since the connection opened. */
  reconnects: number
  /** The most recent cause of a lost connection, secrets redacted; kept after it recovered. */
  lastError?: { name: string; code?: string; message: string; at: Date }
}

/**
 * The connection state of one `Anymq`, fed by the adapter (`AdapterContext.reportConnectionState`)
 * and by `close()`. Listener errors are swallowed: a bad listener never breaks the connection. Once
 * `closed`, later reports are ignored.
 */
export class ConnectionHealth {
  private state: ConnectionState = 'connected'
  private since = new Date()
  private reconnects = 0
  private lastError: HealthReport['lastError']
  private readonly listeners = new Set<(event: ConnectionEvent) => void>()

  /** Bound, so an adapter may keep it as a plain function. */
  readonly report = (change: ConnectionStateChange): void => {
    if (this.state === 'closed') return
    const previous = this.state
    const at = new Date()
    if (change.state === 'reconnecting') this.reconnects++
    const cause = change.cause ? describeCause(change.cause) : undefined
    if (cause) this.lastError = { ...cause, at }
    // Repeated `connected` reports (one per channel or client) are not news.
    if (change.state === previous && change.state !== 'reconnecting') return
    this.state = change.state
    this.since = at
    const event: ConnectionEvent = { state: change.state, previous, reconnects: this.reconnects, at }
    if (cause) event.cause = cause
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  health(): HealthReport {
    const report: HealthReport = { ready: this.state === 'connected', state: this.state, since: this.since, reconnects: this.reconnects }
    if (this.lastError) report.lastError = { ...this.lastError }
    return report
  }

  listen(listener: (event: ConnectionEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

function describeCause(error: Error): { name: string; code?: string; message: string } {
  const code = (error as { code?: unknown }).code
  const cause: { name: string; code?: string; message: string } = { name: error.name, message: redactText(error.message) }
  if (typeof code === 'string' || typeof code === 'number') cause.code = String(code)
  return cause
}
