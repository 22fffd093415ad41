import { type AwsErrorContext, awsErrorCode, awsRefusalOf, isAwsRetryable, wrapAwsError } from '@anymq/aws-sdk-errors'
import type { AnymqError } from '@anymq/core/spi'

export const adapterName = 'aws'

const context: AwsErrorContext = {
  adapter: adapterName,
  throttleCodes: /Throttl|RequestThrottled|OverLimit|KmsThrottled/i,
  regionExample: 'sqs://eu-west-1',
}

/** The AWS error code (`QueueDoesNotExist`, `AWS.SimpleQueueService.NonExistentQueue`, `ECONNREFUSED`…). */
export const errorCode = awsErrorCode

/** Which refusal of the caller's credentials an SDK error is, if it is one. */
export const refusalOf = awsRefusalOf

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

/** Whether repeating the request may succeed: network trouble, throttling of SQS, SNS or EventBridge, server faults. */
export function isRetryable(error: unknown): boolean {
  return isAwsRetryable(error, context.throttleCodes)
}

/** Wraps whatever the AWS SDK threw into an anymq error (see `wrapAwsError`). */
export function wrapError(error: unknown, what: string, kind: 'connection' | 'publish' = 'connection'): AnymqError {
  return wrapAwsError(error, what, context, kind)
}
