import { AnymqError } from '@anymq/core/spi'

/** The fields of an AWS SDK v3 error (a service exception or a client-side failure) read here. */
interface AwsErrorShape {
  name?: string
  code?: string
  Code?: string
  $fault?: 'client' | 'server'
  $retryable?: unknown
  $metadata?: { httpStatusCode?: number }
}

const shapeOf = (error: unknown) => (error ?? {}) as AwsErrorShape

/** The AWS error code (`QueueDoesNotExist`, `ResourceNotFoundException`, `ECONNREFUSED`…), or the error's name. */
export function awsErrorCode(error: unknown): string {
  const shape = shapeOf(error)
  return String(shape.Code ?? shape.code ?? shape.name ?? '')
}

/** The HTTP status of the service's answer; undefined when none came (refused, reset, timed out). */
export function awsHttpStatus(error: unknown): number | undefined {
  return shapeOf(error).$metadata?.httpStatusCode
}

/** Whether the call was stopped by its abort signal (the SDK's `AbortError`, or anymq's own). */
export function isAwsAbort(error: unknown): boolean {
  return (error as Error)?.name === 'AbortError' || (AnymqError.isInstance(error) && error.code === 'ERR_ABORTED')
}

/** AWS' codes for a request whose key, signature or session token it refused. */
const authenticationCodes =
  /^(InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient(Exception)?|InvalidSignature(Exception)?|IncompleteSignature(Exception)?|InvalidAccessKeyId|ExpiredToken(Exception)?|MissingAuthenticationToken(Exception)?|RequestExpired|AuthFailure|InvalidToken)$/
/** AWS' codes for valid credentials whose IAM policy does not allow the call. */
const permissionCodes = /AccessDenied|^AuthorizationError$/

/** How AWS refused the caller's credentials, when it did. */
export type AwsRefusal = 'authentication' | 'permission-denied'

/**
 * Which refusal of the caller's credentials an SDK error is, if it is one. A 401 or 403 whose body the
 * SDK could not read counts as `authentication` (see {@link isUnreadableRefusal}).
 */
export function awsRefusalOf(error: unknown): AwsRefusal | undefined {
  if (AnymqError.isInstance(error)) return undefined
  const code = awsErrorCode(error)
  if (authenticationCodes.test(code)) return 'authentication'
  if (permissionCodes.test(code)) return 'permission-denied'
  if (isUnreadableRefusal(error)) return 'authentication'
  return undefined
}

/**
 * A 401/403 whose body the SDK could not parse: the status alone says the credentials were refused,
 * not which way (moto answers the JSON-protocol services' refusals in XML; a proxy may answer a page).
 */
export function isUnreadableRefusal(error: unknown): boolean {
  const status = awsHttpStatus(error)
  return (status === 401 || status === 403) && (error as Error)?.name === 'SyntaxError'
}

/**
 * Whether repeating the request may succeed: network trouble, throttling (a 4xx whose code matches
 * `throttleCodes`, which differ per service), server faults. An anymq error keeps its own verdict;
 * refused or missing credentials never are.
 */
export function isAwsRetryable(error: unknown, throttleCodes: RegExp): boolean {
  if (AnymqError.isInstance(error)) return error.isRetryable
  const shape = shapeOf(error)
  if (shape.$retryable) return true
  if (shape.$fault === 'server') return true
  const status = awsHttpStatus(error)
  if (status !== undefined && (status >= 500 || status === 429)) return true
  if (status !== undefined && status >= 400) return throttleCodes.test(awsErrorCode(error))
  // No HTTP status: the request never got an answer (refused, reset, timed out).
  return awsErrorCode(error) !== 'CredentialsProviderError' && awsRefusalOf(error) === undefined
}
