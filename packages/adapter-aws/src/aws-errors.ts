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

/** AWS' codes for a request whose key, signature or session token it refused. */
const authenticationCodes =
  /^(InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient(Exception)?|InvalidSignature(Exception)?|IncompleteSignature(Exception)?|InvalidAccessKeyId|ExpiredToken(Exception)?|MissingAuthenticationToken(Exception)?|RequestExpired|AuthFailure|InvalidToken)$/
/** AWS' codes for valid credentials whose IAM policy does not allow the call. */
const permissionCodes = /AccessDenied|^AuthorizationError$/

const refusalTexts = {
  authentication:
    'authentication failed: AWS refused the access key, its secret or session token (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the profile, or the credentials given to connect())',
  'permission-denied': 'permission denied: the credentials are valid, but their IAM policy does not allow this call',
} as const

/** Which refusal of the caller's credentials an SDK error is, if it is one. */
export function refusalOf(error: unknown): keyof typeof refusalTexts | undefined {
  if (AnymqError.isInstance(error)) return undefined
  const code = errorCode(error)
  if (authenticationCodes.test(code)) return 'authentication'
  if (permissionCodes.test(code)) return 'permission-denied'
  // A 401/403 whose body the SDK could not read (moto answers the JSON-protocol services' refusals in
  // XML; a proxy may answer with a page): the status alone says the credentials were refused.
  if (unreadableRefusal(error)) return 'authentication'
  return undefined
}

function unreadableRefusal(error: unknown): boolean {
  const status = ((error ?? {}) as AwsErrorShape).$metadata?.httpStatusCode
  return (status === 401 || status === 403) && (error as Error)?.name === 'SyntaxError'
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
  return errorCode(error) !== 'CredentialsProviderError' && refusalOf(error) === undefined
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
  const refusal = refusalOf(error)
  if (refusal) {
    const text = unreadableRefusal(error)
      ? `authentication failed: AWS refused the request (HTTP ${(error as AwsErrorShape).$metadata?.httpStatusCode}) in an answer the AWS SDK could not read: check the access key, its secret or session token, and the IAM policy`
      : `${refusalTexts[refusal]}; ${detail}`
    return new ConnectionError(`${what} failed: ${text}`, { adapter: adapterName, cause: error, reason: refusal })
  }
  // A TLS verdict is a refusal whatever was being done: retrying cannot change the certificate.
  const tls = tlsFailureOf(error)
  if (tls) return new ConnectionError(`${what} failed: ${explainConnectionFailure(tls)}; ${detail}`, { adapter: adapterName, cause: error, reason: tls })
  const retryable = isRetryable(error)
  if (kind === 'publish') return new PublishError(`${what} failed: ${detail}`, { adapter: adapterName, cause: error, retryable })
  return new ConnectionError(`${what} failed: ${detail}`, { adapter: adapterName, cause: error, retryable })
}
