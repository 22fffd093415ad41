import { brokerUrl, type SilentServer, startSilentServer, uniqueName } from '@anymq/conformance'
import { AbortedError, ConnectionError, connect } from '@anymq/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')

describe('aws connect signal', () => {
  let silent: SilentServer
  beforeEach(async () => {
    silent = await startSilentServer()
  })
  afterEach(() => silent.close())

  it('against an endpoint that never answers, the connect signal drops the socket at once and sends no retry', async () => {
    const error = await connect(`sqs://us-east-1?endpoint=http://127.0.0.1:${silent.port}`, {
      adapter,
      broker: { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      signal: AbortSignal.timeout(300),
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AbortedError)
    // Before, the request stayed open until its 30 s timeout, then was retried twice.
    await expect.poll(() => silent.openSockets(), { timeout: 3000 }).toBe(0)
    expect(silent.accepted()).toBe(1)
  })

  it('against an endpoint that never answers, connect without a signal fails after 10 s with a retryable ConnectionError', async () => {
    // Before, the check waited out its 30 s request timeout three times (~92 s).
    const error = await connect(`sqs://us-east-1?endpoint=http://127.0.0.1:${silent.port}`, {
      adapter,
      broker: { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ConnectionError).isRetryable).toBe(true)
    expect((error as Error).message).toMatch(/no answer within 10000 ms/)
    await expect.poll(() => silent.openSockets(), { timeout: 3000 }).toBe(0)
  })
})

describe.skipIf(!url)(`aws connect signal once connected${!url ? ' (ANYMQ_SQS_URL unset)' : ''}`, () => {
  it('a connect signal that fires after connect resolved leaves the connection be', async () => {
    const controller = new AbortController()
    const mq = await connect(url as string, { adapter, signal: controller.signal })
    const states: string[] = []
    mq.onConnectionState((event) => states.push(event.state))
    try {
      controller.abort()
      await new Promise((resolve) => setTimeout(resolve, 300))
      const queue = mq.queue<string>(uniqueName('after-abort'))
      await queue.send('still connected')
      expect(states).toEqual([])
      expect(mq.health().ready).toBe(true)
      await queue.delete()
    } finally {
      await mq.close()
    }
  })
})
