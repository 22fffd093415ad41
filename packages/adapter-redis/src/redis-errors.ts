import { AnymqError, ConnectionError, type ConnectionFailure, explainConnectionFailure, PublishError, redactText, tlsFailureOf } from '@anymq/core/spi'

/**
 * A copy of a client error that is safe to keep as `cause`: name, redacted message and stack, and
 * nothing else. ioredis attaches the failed command to its errors (`error.command.args`), and for
 * AUTH/HELLO those arguments hold the password (ioredis #1229), so the original object never leaves
 * the adapter.
 */
export function sanitizedError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(redactText(String(error)))
  const copy = new Error(redactText(error.message))
  copy.name = error.name
  copy.stack = typeof error.stack === 'string' ? redactText(error.stack) : copy.stack
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') (copy as Error & { code?: string }).code = code
  return copy
}

/** The client's text for an error, redacted, without the command arguments ioredis attaches. */
export function describeError(error: unknown): string {
  return redactText(error instanceof Error ? error.message : String(error))
}

/** Whether an error comes from a lost or not yet established connection (worth retrying). */
export function isConnectionProblem(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(code)) return true
  // NOREPLICAS, READONLY, MASTERDOWN: a primary failing over (Sentinel), over in seconds like a reconnect.
  // "Disconnects client": node-redis, a command of a client the adapter dropped (a failover, a stalled socket).
  return /Connection is closed|Disconnects client|Stream isn't writeable|MaxRetriesPerRequest|enableOfflineQueue|LOADING|connect ETIMEDOUT|Command timed out|Socket closed|NOREPLICAS|READONLY|MASTERDOWN/i.test(
    error.message,
  )
}

/** A refusal rather than an outage: a TLS verdict, a rejected AUTH, or an ACL that forbids the command or key. */
export function refusalOf(error: unknown): ConnectionFailure | undefined {
  const tls = tlsFailureOf(error)
  if (tls) return tls
  const text = error instanceof Error ? error.message : String(error)
  if (/^(WRONGPASS|NOAUTH)\b|invalid password/i.test(text)) return 'authentication'
  if (/^NOPERM\b/.test(text)) return 'permission-denied'
  return undefined
}

/** Wraps any error raised while talking to Redis as a {@link ConnectionError}; a refusal says which and is not retryable. */
export function connectionError(what: string, error: unknown): AnymqError {
  if (AnymqError.isInstance(error)) return error
  const reason = refusalOf(error)
  return new ConnectionError(`${what}: ${reason === undefined ? '' : `${explainConnectionFailure(reason)}; `}${describeError(error)}`, {
    adapter: 'redis',
    cause: sanitizedError(error),
    reason,
  })
}

/** Wraps an error of XADD/ZADD as a {@link PublishError}: the message was not (or may not have been) stored. */
export function publishError(what: string, error: unknown): AnymqError {
  if (AnymqError.isInstance(error)) return error
  if (isConnectionProblem(error) || refusalOf(error)) return connectionError(what, error)
  return new PublishError(`${what}: ${describeError(error)}`, {
    adapter: 'redis',
    cause: sanitizedError(error),
    // Out of memory or a replica in read-only mode may pass; a wrong key type will not.
    retryable: !/WRONGTYPE/.test(describeError(error)),
  })
}
