import { brokerUrl, Collector, startTcpRelay, uniqueName, waitUntil } from '@anymq/conformance'
import { type Anymq, connect } from '@anymq/core'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect as natsConnect } from '@nats-io/transport-node'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter, escapeName } from '../src/index.js'

const url = brokerUrl('ANYMQ_NATS_URL')

// A pull request the server reads late outlives the client's wait for it: @nats-io/jetstream's fetch()
// gives up after two idle-heartbeat intervals (one fetchExpiresMs) without a word from the server and
// drops its inbox, so the message the server then sends into that request went nowhere and came back
// only after AckWait. This is what a busy process saw under the full test suite's CPU load.
describe.skipIf(!url)('a pull request that reaches the server late (ANYMQ_NATS_URL unset: run scripts/brokers.sh up nats)', () => {
  const connections: Anymq[] = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const connection of connections.splice(0)) await connection.close().catch(() => {})
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  })

  it('still delivers what the server sends into it, long before AckWait', async () => {
    const target = new URL(url as string)
    const relay = await startTcpRelay(target)
    cleanups.push(() => relay.close())
    const relayed = relay.url
    relayed.searchParams.set('ackWaitMs', '30000')
    relayed.searchParams.set('fetchExpiresMs', '1000')
    const consumerSide = await connect(relayed.href, { adapter })
    const producerSide = await connect(target.href, { adapter })
    connections.push(consumerSide, producerSide)
    const name = uniqueName('late-pull')
    const seen = new Collector<string>()
    await consumerSide.queue<string>(name).consume(seen.handler).ready
    await producerSide.queue<string>(name).send('before')
    await seen.waitForCount(1, 10_000)
    // What the server knows of the consumer's pull requests, asked past the relay.
    const observer = await natsConnect({ servers: target.host })
    cleanups.push(() => observer.close())
    const manager = await jetstreamManager(observer)
    const waitingPulls = async () => (await manager.consumers.info(`ANYMQ_Q_${escapeName(name)}`, 'anymq')).num_waiting
    await waitUntil(async () => (await waitingPulls()) === 1, 10_000, 'a pull request waiting on the server')

    // From now on the server reads the consumer's requests 2.5 s late: longer than two idle-heartbeat
    // intervals of a 1 s fetch(), which then gives up on its pull before the server has even read it.
    relay.lag(2500)
    // The pull the server has expires; the next one is on its way through the relay.
    await waitUntil(async () => (await waitingPulls()) === 0, 10_000, 'the waiting pull request to expire')
    await producerSide.queue<string>(name).send('during')

    // AckWait is 30 s: only a message nobody dropped arrives within this case's 20 s.
    await seen.waitForCount(2, 20_000)
    expect(seen.bodies).toEqual(['before', 'during'])
    expect(seen.items[1]?.attempt).toBe(1)
  }, 40_000)
})
