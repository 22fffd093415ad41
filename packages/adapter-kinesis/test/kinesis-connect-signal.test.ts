import { brokerUrl, describeConnectSignal, type SilentServer, startSilentServer } from '@anymq/conformance'
import { ConnectionError, connect } from '@anymq/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_KINESIS_URL')
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

describeConnectSignal({
  name: 'kinesis',
  // Before, the request stayed open for good: no request timeout was set for Kinesis.
  connectSilent: (port, signal) => connect(`kinesis://us-east-1?endpoint=http://127.0.0.1:${port}`, { adapter, broker: { credentials }, signal }),
  connect: url ? (signal) => connect(url, { adapter, signal }) : undefined,
})

describe('kinesis connect deadline', () => {
  let silent: SilentServer
  beforeEach(async () => {
    silent = await startSilentServer()
  })
  afterEach(() => silent.close())

  it('against an endpoint that never answers, connect without a signal fails with a retryable ConnectionError and drops the socket', async () => {
    // Before, with no request timeout on the Kinesis client, this connect never settled.
    const error = await connect(`kinesis://us-east-1?endpoint=http://127.0.0.1:${silent.port}`, {
      adapter,
      broker: { credentials },
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ConnectionError).isRetryable).toBe(true)
    expect((error as Error).message).toMatch(/no answer within 10000 ms/)
    await expect.poll(() => silent.openSockets(), { timeout: 3000 }).toBe(0)
  })
})
