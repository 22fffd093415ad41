import { AbortedError, AnymqError, ConfigError, ConnectionError, explainConnectionFailure, PublishError, tlsFailureOf } from '@anymq/core/spi'
import { type AwsRefusal, awsErrorCode, awsHttpStatus, awsRefusalOf, isAwsAbort, isAwsRetryable, isUnreadableRefusal } from './aws-sdk-error.js'

/** What {@link wrapAwsError} needs to know of the adapter whose call failed. */
export interface AwsErrorContext {
  /** The adapter's name, as its errors carry it (`aws`, `kinesis`). */
  adapter: string
  /** The service's codes for throttling: a 4xx with one of them may be repeated. */
  throttleCodes: RegExp
  /** A URL with a region, for the message when none was found (`sqs://eu-west-1`). */
  regionExample: string
}

const refusalTexts: Record<AwsRefusal, string> = {
  authentication:
    'authentication failed: AWS refused the access key, its secret or session token (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the profile, or the credentials given to connect())',
  'permission-denied': 'permission denied: the credentials are valid, but their IAM policy does not allow this call',
}

/**
 * Wraps whatever the AWS SDK threw into a typed anymq error, `what` saying what was being done:
 * `AbortedError` for an abort; `ConfigError` for no credentials or no region; a non-retryable
 * `ConnectionError` with a `reason` for refused credentials or certificates; else a `ConnectionError`
 * (or, for `kind: 'publish'`, a `PublishError`) retryable as {@link isAwsRetryable} says. The SDK's
 * error stays as `cause`; core redacts registered secrets from both.
 */
export function wrapAwsError(error: unknown, what: string, context: AwsErrorContext, kind: 'connection' | 'publish' = 'connection'): AnymqError {
  if (AnymqError.isInstance(error)) return error
  const { adapter } = context
  if (isAwsAbort(error)) return new AbortedError(what, { adapter, cause: error })
  const code = awsErrorCode(error)
  const detail = `${code && code !== 'Error' ? `${code}: ` : ''}${(error as Error)?.message ?? String(error)}`
  if (code === 'CredentialsProviderError') {
    return new ConfigError(
      `${what} failed: no AWS credentials were found (${(error as Error)?.message ?? 'credential provider chain'}); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with an IAM role`,
      { adapter, cause: error },
    )
  }
  if (/Region is missing/i.test(detail)) {
    return new ConfigError(`${what} failed: no AWS region: put it in the URL (${context.regionExample}) or set AWS_REGION`, { adapter, cause: error })
  }
  const refusal = awsRefusalOf(error)
  if (refusal) {
    const text = isUnreadableRefusal(error)
      ? `authentication failed: AWS refused the request (HTTP ${awsHttpStatus(error)}) in an answer the AWS SDK could not read: check the access key, its secret or session token, and the IAM policy`
      : `${refusalTexts[refusal]}; ${detail}`
    return new ConnectionError(`${what} failed: ${text}`, { adapter, cause: error, reason: refusal })
  }
  // A TLS verdict is a refusal whatever was being done: retrying cannot change the certificate.
  const tls = tlsFailureOf(error)
  if (tls) return new ConnectionError(`${what} failed: ${explainConnectionFailure(tls)}; ${detail}`, { adapter, cause: error, reason: tls })
  const retryable = isAwsRetryable(error, context.throttleCodes)
  if (kind === 'publish') return new PublishError(`${what} failed: ${detail}`, { adapter, cause: error, retryable })
  return new ConnectionError(`${what} failed: ${detail}`, { adapter, cause: error, retryable })
}
