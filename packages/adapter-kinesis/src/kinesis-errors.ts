import { type AwsErrorContext, awsErrorCode, isAwsRetryable, wrapAwsError } from '@anymq/aws-sdk-errors'
import type { AnymqError } from '@anymq/core/spi'

export const adapterName = 'kinesis'

const context: AwsErrorContext = {
  adapter: adapterName,
  throttleCodes: /Throttl|ProvisionedThroughputExceeded|LimitExceeded|KMSThrottling/i,
  regionExample: 'kinesis://eu-west-1',
}

export function isResourceMissing(error: unknown): boolean {
  return awsErrorCode(error) === 'ResourceNotFoundException'
}

export function isResourceInUse(error: unknown): boolean {
  return awsErrorCode(error) === 'ResourceInUseException'
}

/** Another worker changed the lease first (DynamoDB conditional write refused). */
export function isConditionFailed(error: unknown): boolean {
  return awsErrorCode(error) === 'ConditionalCheckFailedException'
}

export function isIteratorExpired(error: unknown): boolean {
  return awsErrorCode(error) === 'ExpiredIteratorException'
}

/** Whether repeating the request may succeed: network trouble, throttling of Kinesis or DynamoDB, server faults. */
export function isRetryable(error: unknown): boolean {
  return isAwsRetryable(error, context.throttleCodes)
}

/** Wraps whatever the AWS SDK threw into an anymq error (see `wrapAwsError`). */
export function wrapError(error: unknown, what: string, kind: 'connection' | 'publish' = 'connection'): AnymqError {
  return wrapAwsError(error, what, context, kind)
}
