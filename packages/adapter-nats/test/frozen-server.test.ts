import { brokerUrl, describeFrozenClose, startTcpRelay, uniqueName } from '@anymq/conformance'
import { AbortedError, type Anymq, ConnectionError, connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_NATS_URL')

// A server that keeps the connection and stops answering (frozen, or a network that drops packets):
// nothing ever errors, so a send ends only by the JetStream client's PubAck timeout or by its signal.
describe.skipIf(!url)('a send to a server that stopped answering (ANYMQ_NATS_URL unset: run scripts/brokers.sh up nats)', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  })

  it('fails after the PubAck timeout with a ConnectionError that says the message may still be stored; a signal ends it sooner', {
    timeout: 30_000,
  }, async () => {
    const relay = await startTcpRelay(new URL(url as string))
    cleanups.push(() => relay.close())
    const mq: Anymq = await connect(relay.url.toString(), { adapter })
    cleanups.push(() => mq.close())
    const queue = mq.queue<string>(uniqueName('frozen-send'))
    await queue.send('before')
    relay.freeze()
    let began = Date.now()
    const error = await queue.send('during').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ConnectionError).isRetryable).toBe(true)
    expect((error as Error).message).toMatch(/did not acknowledge within 5000 ms.*may still store the message/)
    expect(Date.now() - began).toBeGreaterThanOrEqual(4_900)
    began = Date.now()
    await expect(queue.send('bounded', { signal: AbortSignal.timeout(300) })).rejects.toBeInstanceOf(AbortedError)
    expect(Date.now() - began).toBeLessThan(2_000)
  })
})

describeFrozenClose({
  name: 'nats',
  url,
  connect: (relayed, logger) => connect(relayed, { adapter, logger }),
  closeWithinMs: 15_000,
})
