import { brokerUrl, uniqueName } from '@anymq/conformance'
import { AbortedError, connect } from '@anymq/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { type SilentServer, startSilentServer } from './silent-http2-server.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

describe('pubsub connect signal', () => {
  let silent: SilentServer
  beforeEach(async () => {
    silent = await startSilentServer()
  })
  afterEach(() => silent.close())

  it('against an endpoint that completes the HTTP/2 handshake and never answers, the connect signal drops the socket at once', async () => {
    const error = await connect(`gcp-pubsub://anymq-test?endpoint=127.0.0.1:${silent.port}&connectTimeoutMs=60000`, {
      adapter,
      signal: AbortSignal.timeout(300),
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AbortedError)
    // Before, the call (and the channel's socket) stayed open until connectTimeoutMs.
    await expect.poll(() => silent.openSockets(), { timeout: 3000 }).toBe(0)
    expect(silent.accepted()).toBe(1)
  })
})

describe.skipIf(!url)(`pubsub connect signal once connected${!url ? ' (ANYMQ_PUBSUB_URL unset)' : ''}`, () => {
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
