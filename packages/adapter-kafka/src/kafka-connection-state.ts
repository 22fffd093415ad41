import { AnymqError, type ConnectionStateChange } from '@anymq/core/spi'

/**
 * Kafka has no one connection to watch: the client dials each broker as needed and reconnects on
 * its own. What tells core how it stands: a consumer crash the client restarts from, or a publish
 * failing with a retryable error, is a loss (`reconnecting`, with the cause); the next publish the
 * broker accepts or partition assignment a consumer gets means it is back (`connected`).
 */
export class KafkaConnectionState {
  private lost = false

  constructor(private readonly report: ((change: ConnectionStateChange) => void) | undefined) {}

  /** A publish or a consumer failed; counts as a loss only when the client will try again. */
  failed(error: unknown, restarting: boolean): void {
    if (!restarting || !this.report) return
    this.lost = true
    this.report({ state: 'reconnecting', cause: error instanceof Error ? error : new Error(String(error)) })
  }

  /** Whether a publish error is one the client recovers from by reconnecting. */
  static retryable(error: unknown): boolean {
    return AnymqError.isInstance(error) && error.isRetryable
  }

  /** The broker answered again. */
  working(): void {
    if (!this.lost || !this.report) return
    this.lost = false
    this.report({ state: 'connected' })
  }
}
