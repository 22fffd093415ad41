import {
  AnymqError,
  ConnectionError,
  type ConnectionFailure,
  errorsIn,
  explainConnectionFailure,
  PublishError,
  redactText,
  tlsFailureOf,
} from '@anymq/core/spi'

/** A pull request ended by the server with a failure status (`409 Consumer Deleted`, `503`, `400`…). */
export class PullStatusError extends Error {
  constructor(
    readonly code: number,
    description: string,
  ) {
    super(`${code} ${description}`)
    this.name = 'PullStatusError'
  }
}

/**
 * A pull request the server left unanswered through several expiries on a live connection: a server
 * short of CPU, or no consumer of that name any more (a request to a missing one gets no answer).
 */
export class PullUnansweredError extends Error {
  constructor(request: string, expiries: number) {
    super(`no answer to pull request '${request}' after ${expiries} expiries`)
    this.name = 'PullUnansweredError'
  }
}

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

/** A refusal rather than an outage: a TLS verdict, rejected credentials, or a user not allowed a subject. */
export function refusalOf(error: unknown): ConnectionFailure | undefined {
  const tls = tlsFailureOf(error)
  if (tls) return tls
  for (const current of errorsIn(error)) {
    // TLS asked of a server that offers none (the client checks the server's INFO).
    if (/server does not support 'tls'|tls is not available/i.test(current.message)) return 'tls-handshake'
    if (current.name === 'AuthorizationError' || /Authorization Violation|Authentication Expired|User Authentication Revoked/i.test(current.message))
      return 'authentication'
    if (/Permissions Violation/i.test(current.message)) return 'permission-denied'
  }
  return undefined
}

/** Wraps any error raised while talking to NATS as a {@link ConnectionError}; a refusal says which and is not retryable. */
export function connectionError(what: string, error: unknown): AnymqError {
  if (AnymqError.isInstance(error)) return error
  const reason = refusalOf(error)
  return new ConnectionError(`${what}: ${reason === undefined ? '' : `${explainConnectionFailure(reason)}; `}${describeError(error)}`, {
    adapter: 'nats',
    cause: sanitizedError(error),
    reason,
  })
}

/** How long the JetStream client waits for a PubAck (@nats-io/jetstream's default `timeout`, not changed here). */
export const publishAckTimeoutMs = 5_000

/** Wraps an error of a JetStream publish as a {@link PublishError}: the message was not (or may not have been) stored. */
export function publishError(what: string, error: unknown): AnymqError {
  if (AnymqError.isInstance(error)) return error
  // The client's own text is a bare "timeout".
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new ConnectionError(
      `${what}: the server did not acknowledge within ${publishAckTimeoutMs} ms (a server frozen, overloaded or cut off); it may still store the message, so sending again may make a duplicate`,
      { adapter: 'nats', cause: sanitizedError(error) },
    )
  }
  if (isConnectionProblem(error) || refusalOf(error) !== undefined) return connectionError(what, error)
  return new PublishError(`${what}: ${describeError(error)}`, {
    adapter: 'nats',
    cause: sanitizedError(error),
    // A full stream or a lost leader may pass; a missing permission or a too large message will not.
    retryable: !/permission|maximum payload|too large/i.test(describeError(error)),
  })
}
