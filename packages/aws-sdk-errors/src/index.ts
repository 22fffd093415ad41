export { type AwsRefusal, awsErrorCode, awsHttpStatus, awsRefusalOf, isAwsAbort, isAwsRetryable, isUnreadableRefusal } from './aws-sdk-error.js'
export { type AwsErrorContext, wrapAwsError } from './wrap-aws-error.js'
