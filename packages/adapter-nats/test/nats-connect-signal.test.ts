import { brokerUrl, describeConnectSignal, type SilentServer, startSilentServer } from '@anymq/conformance'
import { ConnectionError, connect } from '@anymq/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_NATS_URL')

describeConnectSignal({
  name: 'nats',
  // A server that never sends INFO; before, the socket stayed open until connectTimeoutMs and after it.
  connectSilent: (port, signal) => connect(`nats://127.0.0.1:${port}?connectTimeoutMs=60000`, { adapter, signal }),
  connect: url ? (signal) => connect(url, { adapter, signal }) : undefined,
})

describe('nats connect timeout', () => {
  let silent: SilentServer
  beforeEach(async () => {
    silent = await startSilentServer()
  })
  afterEach(() => silent.close())

  it('against a server that never sends INFO, a connect that times out lets go of its socket', async () => {
    const error = await connect(`nats://127.0.0.1:${silent.port}?connectTimeoutMs=500`, { adapter }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    // Before, the client gave up on the socket but left it open until the server hung up.
    await expect.poll(() => silent.openSockets(), { timeout: 3000 }).toBe(0)
    expect(silent.accepted()).toBe(1)
  })
})
