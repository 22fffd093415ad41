import { AnymqError, ConnectionError, PublishError, redactText } from '@anymq/core/spi'

/** A copy of a client error safe to keep as `cause`: name, gRPC code, redacted message and stack only. */
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

/** gRPC status codes used below. */
export const grpcCode = {
  notFound: 5,
  alreadyExists: 6,
  unavailable: 14,
  deadlineExceeded: 4,
  invalidArgument: 3,
  permissionDenied: 7,
  unauthenticated: 16,
} as const

export function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'number' ? code : undefined
}

const refusalTexts = {
  authentication:
    'authentication failed: Google refused the credentials (check the service-account key: GOOGLE_APPLICATION_CREDENTIALS, broker.keyFilename or broker.credentials)',
  'permission-denied': 'permission denied: the credentials are valid, but their IAM roles do not allow this call on the project',
} as const

/** Which refusal of the caller's credentials a gRPC status is: UNAUTHENTICATED or PERMISSION_DENIED. */
export function refusalOf(error: unknown): keyof typeof refusalTexts | undefined {
  const code = codeOf(error)
  if (code === grpcCode.unauthenticated) return 'authentication'
  if (code === grpcCode.permissionDenied) return 'permission-denied'
  return undefined
}

/**
 * Wraps any error raised while talking to Pub/Sub as a {@link ConnectionError}: retryable, unless
 * Google refused the credentials (then its `reason` says how).
 */
export function connectionError(what: string, error: unknown): AnymqError {
  if (AnymqError.isInstance(error)) return error
  const reason = refusalOf(error)
  if (reason) {
    return new ConnectionError(`${what}: ${refusalTexts[reason]}; ${describeError(error)}`, { adapter: 'gcp-pubsub', cause: sanitizedError(error), reason })
  }
  return new ConnectionError(`${what}: ${describeError(error)}`, { adapter: 'gcp-pubsub', cause: sanitizedError(error), retryable: true })
}

/** Wraps an error of Publish as a {@link PublishError}: the messages were not (or may not have been) stored. */
export function publishError(what: string, error: unknown): AnymqError {
  if (AnymqError.isInstance(error)) return error
  const code = codeOf(error)
  if (code === grpcCode.unavailable || code === grpcCode.deadlineExceeded || refusalOf(error)) return connectionError(what, error)
  return new PublishError(`${what}: ${describeError(error)}`, {
    adapter: 'gcp-pubsub',
    cause: sanitizedError(error),
    retryable: code !== grpcCode.invalidArgument,
  })
}
