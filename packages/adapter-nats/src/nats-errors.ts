import { AnymqError, ConnectionError, PublishError, redactText } from '@anymq/core/spi'

/** A copy of a client error safe to keep as `cause`: name, code, redacted message and stack only. */
export function sanitizedError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(redactText(String(error)))
  const copy = new Error(redactText(error.message))
  copy.name = error.name
  copy.stack = typeof error.stack === 'string' ? redactText(error.stack) : copy.stack
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' || typeof code === 'number') (copy as Error & { code?: string }).code = String(code)
  return copy
}

export function describeError(error: unknown): string {
  return redactText(error instanceof Error ? error.message : String(error))
}

/** Whether an error comes from a lost, closed or not yet established connection (worth retrying). */
export function isConnectionProblem(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const text = `${error.name} ${error.message} ${String((error as { code?: unknown }).code ?? '')}`
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|closed|disconnect|timeout|TIMEOUT|no responders|503|draining|reconnect/i.test(text)
}

/** Wraps any error raised while talking to NATS as a {@link ConnectionError}. */
export function connectionError(what: string, error: unknown): AnymqError {
  if (AnymqError.isInstance(error)) return error
  return new ConnectionError(`${what}: ${describeError(error)}`, { adapter: 'nats', cause: sanitizedError(error), retryable: true })
}

/** Wraps an error of a JetStream publish as a {@link PublishError}: the message was not (or may not have been) stored. */
export function publishError(what: string, error: unknown): AnymqError {
  if (AnymqError.isInstance(error)) return error
  if (isConnectionProblem(error)) return connectionError(what, error)
  return new PublishError(`${what}: ${describeError(error)}`, {
    adapter: 'nats',
    cause: sanitizedError(error),
    // A full stream or a lost leader may pass; a missing permission or a too large message will not.
    retryable: !/permission|maximum payload|too large/i.test(describeError(error)),
  })
}
