import { brokerUrl, type SilentServer, startSilentServer, uniqueName } from '@anymq/conformance'
import { AbortedError, ConnectionError, connect } from '@anymq/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_NATS_URL')

describe('nats connect signal', () => {
  let silent: SilentServer
  beforeEach(async () => {
    silent = await startSilentServer()
  })
  afterEach(() => silent.close())

  it('against a server that never sends INFO, the connect signal drops the socket at once and dials no other', async () => {
    const error = await connect(`nats://127.0.0.1:${silent.port}?connectTimeoutMs=60000`, { adapter, signal: AbortSignal.timeout(300) }).catch(
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(AbortedError)
    // Before, the socket stayed open until connectTimeoutMs (and after it: see below).
    await expect.poll(() => silent.openSockets(), { timeout: 3000 }).toBe(0)
    expect(silent.accepted()).toBe(1)
  })

  it('against a server that never sends INFO, a connect that times out lets go of its socket', async () => {
    const error = await connect(`nats://127.0.0.1:${silent.port}?connectTimeoutMs=500`, { adapter }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    // Before, the client gave up on the socket but left it open until the server hung up.
    await expect.poll(() => silent.openSockets(), { timeout: 3000 }).toBe(0)
    expect(silent.accepted()).toBe(1)
  })
})

describe.skipIf(!url)(`nats connect signal once connected${!url ? ' (ANYMQ_NATS_URL unset)' : ''}`, () => {
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
