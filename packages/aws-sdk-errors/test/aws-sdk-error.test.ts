import { ConnectionError, PublishError } from '@anymq/core'
import { SQSServiceException } from '@aws-sdk/client-sqs'
import { describe, expect, it } from 'vitest'
import { awsRefusalOf, isAwsRetryable, wrapAwsError } from '../src/index.js'

const context = { adapter: 'test', throttleCodes: /Throttl/i, regionExample: 'sqs://eu-west-1' }

/** An exception as the SDK's deserializers make it for a service's error answer. */
function serviceError(name: string, status: number, message = `${name} happened`): SQSServiceException {
  return new SQSServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message })
}

describe('what an AWS SDK error means', () => {
  it.each([
    ['InvalidClientTokenId', 403, 'authentication'],
    ['SignatureDoesNotMatch', 403, 'authentication'],
    ['UnrecognizedClientException', 400, 'authentication'],
    ['ExpiredTokenException', 400, 'authentication'],
    ['AccessDenied', 403, 'permission-denied'],
    ['AccessDeniedException', 400, 'permission-denied'],
    ['AuthorizationError', 403, 'permission-denied'],
    ['QueueDoesNotExist', 400, undefined],
    ['ThrottlingException', 400, undefined],
  ] as const)('%s (%d) is refusal %s', (name, status, refusal) => {
    expect(awsRefusalOf(serviceError(name, status))).toBe(refusal)
  })

  it('takes a 403 whose body the SDK could not read as an authentication refusal, and says it could not read it', () => {
    const unreadable = Object.assign(new SyntaxError(`Unexpected token '<'`), { $metadata: { httpStatusCode: 403 } })
    const wrapped = wrapAwsError(unreadable, 'connecting', context)
    expect(wrapped).toBeInstanceOf(ConnectionError)
    expect(wrapped).toMatchObject({ reason: 'authentication', isRetryable: false })
    expect(wrapped.message).toMatch(/HTTP 403\) in an answer the AWS SDK could not read/)
    // A body that could not be read on a 400 is no refusal.
    expect(awsRefusalOf(Object.assign(new SyntaxError('x'), { $metadata: { httpStatusCode: 400 } }))).toBeUndefined()
  })

  it('repeats server faults, 429, throttling and calls that got no answer; not refusals or other 4xx', () => {
    expect(isAwsRetryable(serviceError('InternalError', 500), context.throttleCodes)).toBe(true)
    expect(isAwsRetryable(serviceError('TooManyRequests', 429), context.throttleCodes)).toBe(true)
    expect(isAwsRetryable(serviceError('ThrottlingException', 400), context.throttleCodes)).toBe(true)
    expect(isAwsRetryable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), context.throttleCodes)).toBe(true)
    expect(isAwsRetryable(serviceError('InvalidClientTokenId', 403), context.throttleCodes)).toBe(false)
    expect(isAwsRetryable(serviceError('InvalidParameterValue', 400), context.throttleCodes)).toBe(false)
    expect(isAwsRetryable(Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }), context.throttleCodes)).toBe(false)
  })

  it('wraps a refusal as a non-retryable ConnectionError even for a send, and anything else of a send as a PublishError', () => {
    expect(wrapAwsError(serviceError('AccessDenied', 403), 'sending', context, 'publish')).toMatchObject({
      code: 'ERR_CONNECTION',
      reason: 'permission-denied',
      isRetryable: false,
    })
    const other = wrapAwsError(serviceError('InvalidParameterValue', 400), 'sending', context, 'publish')
    expect(other).toBeInstanceOf(PublishError)
    expect(other.message).toBe('[anymq] [test] sending failed: InvalidParameterValue: InvalidParameterValue happened')
  })

  it('names what to set when no credentials or no region were found', () => {
    expect(
      wrapAwsError(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'connecting', context),
    ).toMatchObject({
      code: 'ERR_CONFIG',
    })
    expect(wrapAwsError(new Error('Region is missing'), 'connecting', context).message).toMatch(/put it in the URL \(sqs:\/\/eu-west-1\) or set AWS_REGION/)
  })
})
