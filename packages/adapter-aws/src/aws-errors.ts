import { AbortedError, AnymqError, ConfigError, ConnectionError, explainConnectionFailure, PublishError, tlsFailureOf } from '@anymq/core/spi'

export const adapterName = 'aws'

interface AwsErrorShape {
  name?: string
  message?: string
  code?: string
  Code?: string
  $fault?: 'client' | 'server'
  $retryable?: unknown
  $metadata?: { httpStatusCode?: number }
}

/** The AWS error code (`QueueDoesNotExist`, `AWS.SimpleQueueService.NonExistentQueue`, `ECONNREFUSED`…). */
export function errorCode(error: unknown): string {
  const shape = (error ?? {}) as AwsErrorShape
  return String(shape.Code ?? shape.code ?? shape.name ?? '')
}

export function isQueueMissing(error: unknown): boolean {
  const code = errorCode(error)
  return (
    code === 'QueueDoesNotExist' ||
    code === 'AWS.SimpleQueueService.NonExistentQueue' ||
    /NonExistentQueue|queue does not exist/i.test(String((error as Error)?.message))
  )
}

export function isTopicMissing(error: unknown): boolean {
  const code = errorCode(error)
  return code === 'NotFound' || code === 'NotFoundException' || /topic does not exist/i.test(String((error as Error)?.message))
}

export function isAbort(error: unknown): boolean {
  const name = (error as Error)?.name
  return name === 'AbortError' || (AnymqError.isInstance(error) && error.code === 'ERR_ABORTED')
}

/** Whether repeating the request may succeed: network trouble, throttling, server faults. */
export function isRetryable(error: unknown): boolean {
  // Already wrapped (a batch request that failed as a whole): its verdict was made on the SDK's error.
  if (AnymqError.isInstance(error)) return error.isRetryable
  const shape = (error ?? {}) as AwsErrorShape
  if (shape.$retryable) return true
  if (shape.$fault === 'server') return true
  const status = shape.$metadata?.httpStatusCode
  if (status !== undefined && (status >= 500 || status === 429)) return true
  if (status !== undefined && status >= 400) return /Throttl|RequestThrottled|OverLimit|KmsThrottled/i.test(errorCode(error))
  // No HTTP status: the request never got an answer (refused, reset, timed out).
  return !isCredentialProblem(error)
}

export function isCredentialProblem(error: unknown): boolean {
  const code = errorCode(error)
  return (
    code === 'CredentialsProviderError' ||
    /InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient|InvalidAccessKeyId|ExpiredToken|MissingAuthenticationToken|AccessDenied|AuthorizationError/i.test(
      code,
    )
  )
}

/**
 * Wraps whatever the AWS SDK threw into an anymq error. The SDK's own error stays as `cause`; core
 * redacts registered secrets from both.
 */
export function wrapError(error: unknown, what: string, kind: 'connection' | 'publish' = 'connection'): AnymqError {
  if (AnymqError.isInstance(error)) return error
  if (isAbort(error)) return new AbortedError(what, { adapter: adapterName, cause: error })
  const code = errorCode(error)
  const detail = `${code && code !== 'Error' ? `${code}: ` : ''}${(error as Error)?.message ?? String(error)}`
  if (code === 'CredentialsProviderError') {
    return new ConfigError(
      `${what} failed: no AWS credentials were found (${(error as Error)?.message ?? 'credential provider chain'}); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with an IAM role`,
      { adapter: adapterName, cause: error },
    )
  }
  if (/Region is missing/i.test(detail)) {
    return new ConfigError(`${what} failed: no AWS region: put it in the URL (sqs://eu-west-1) or set AWS_REGION`, { adapter: adapterName, cause: error })
  }
  // A TLS verdict is a refusal whatever was being done: retrying cannot change the certificate.
  const tls = tlsFailureOf(error)
  if (tls) return new ConnectionError(`${what} failed: ${explainConnectionFailure(tls)}; ${detail}`, { adapter: adapterName, cause: error, reason: tls })
  const retryable = isRetryable(error)
  if (kind === 'publish') return new PublishError(`${what} failed: ${detail}`, { adapter: adapterName, cause: error, retryable })
  return new ConnectionError(`${what} failed: ${detail}`, { adapter: adapterName, cause: error, retryable })
}
