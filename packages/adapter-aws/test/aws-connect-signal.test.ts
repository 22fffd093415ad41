import { brokerUrl, describeConnectSignal, type SilentServer, startSilentServer } from '@anymq/conformance'
import { ConnectionError, connect } from '@anymq/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

describeConnectSignal({
  name: 'aws',
  // Before, the request stayed open until its 30 s timeout, then was retried twice.
  connectSilent: (port, signal) => connect(`sqs://us-east-1?endpoint=http://127.0.0.1:${port}`, { adapter, broker: { credentials }, signal }),
  connect: url ? (signal) => connect(url, { adapter, signal }) : undefined,
})

describe('aws connect deadline', () => {
  let silent: SilentServer
  beforeEach(async () => {
    silent = await startSilentServer()
  })
  afterEach(() => silent.close())

  it('against an endpoint that never answers, connect without a signal fails after 10 s with a retryable ConnectionError', async () => {
    // Before, the check waited out its 30 s request timeout three times (~92 s).
    const error = await connect(`sqs://us-east-1?endpoint=http://127.0.0.1:${silent.port}`, {
      adapter,
      broker: { credentials },
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ConnectionError).isRetryable).toBe(true)
    expect((error as Error).message).toMatch(/no answer within 10000 ms/)
    await expect.poll(() => silent.openSockets(), { timeout: 3000 }).toBe(0)
  })
})
