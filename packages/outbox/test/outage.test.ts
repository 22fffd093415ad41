import { type Anymq, connect, type Message } from '@anymq/core'
import { adapter as rabbitmqAdapter } from '@anymq/rabbitmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OutboxRelay } from '../src/index.js'
import { rabbitmqUrl, type StoreFixture, stores, uniqueName, unsetReason, waitUntil } from './fixtures.js'
import { PrivateRabbitmq } from './private-rabbitmq.js'

interface Step {
  key: string
  sequence: number
}

const keys = 4

/**
 * Acceptance: the broker stops for 10 s. The application keeps committing; the relays wait; when the
 * broker is back the backlog drains, in order per key, nothing lost. The broker is a RabbitMQ node of
 * this test's own (another port), so the shared broker other tests use is never stopped.
 */
const noRabbitmqServer = PrivateRabbitmq.available() ? '' : ' (no rabbitmq-server installed to start a node of its own: run scripts/brokers.sh up rabbitmq)'

describe.skipIf(!rabbitmqUrl || !PrivateRabbitmq.available())(`broker outage of 10 s with a real RabbitMQ${unsetReason('rabbitmq')}${noRabbitmqServer}`, () => {
  // ANYMQ_SPARE_RABBITMQ_PORT (and the port after it, for management) puts this node where a
  // machine shared by several broker sets has room; by default it takes 5600–5649 and 15600–15649.
  const sparePort = Number(process.env.ANYMQ_SPARE_RABBITMQ_PORT) || undefined
  const rabbitmq = sparePort ? new PrivateRabbitmq(sparePort, sparePort + 1) : new PrivateRabbitmq(5600 + (process.pid % 50))
  const fixtures: StoreFixture<any>[] = []
  const relays: OutboxRelay[] = []
  const connections: Anymq[] = []

  beforeAll(async () => {
    await rabbitmq.up()
    for (const store of stores.filter((each) => each.available)) fixtures.push(await store.create())
  }, 240_000)

  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.stop()))
    await Promise.all(connections.map((mq) => mq.close().catch(() => {})))
    await Promise.all(fixtures.map((fixture) => fixture.close()))
    await rabbitmq.remove()
  }, 120_000)

  it('keeps committing while the broker is down, then drains the backlog in order per key with nothing lost', async () => {
    const quiet = { error() {}, warn() {}, info() {}, debug() {} }
    const relayMq = await connect(rabbitmq.url, { adapter: rabbitmqAdapter, logger: quiet })
    const consumerMq = await connect(rabbitmq.url, { adapter: rabbitmqAdapter, logger: quiet })
    connections.push(relayMq, consumerMq)
    const runs = fixtures.map((fixture) => {
      const queue = uniqueName(`outage-${fixture.name}`)
      const seen: Message<Step>[] = []
      return { fixture, queue, seen, committed: 0, committedWhileDown: 0 }
    })
    const relayErrors = new Set<string>()
    for (const run of runs) {
      const subscription = consumerMq.queue<Step>(run.queue).consume((message) => {
        run.seen.push(message)
      })
      await subscription.ready
      relays.push(
        run.fixture
          .relayOutbox()
          .startRelay({ mq: relayMq, outageBackoff: { initialMs: 100, maxMs: 1000 }, onError: (error) => relayErrors.add(error.message.slice(0, 160)) }),
      )
    }

    let brokerDown = false
    let stop = false
    const committing = Promise.all(
      runs.map(async (run) => {
        while (!stop) {
          const sequence = run.committed
          await run.fixture.commit((tx) => run.fixture.outbox.add(tx, run.queue, { key: `k${sequence % keys}`, sequence }, { key: `k${sequence % keys}` }))
          run.committed++
          if (brokerDown) run.committedWhileDown++
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }),
    )

    await waitUntil(() => runs.every((run) => run.seen.length >= 20), 30_000, 'traffic before the outage')
    await rabbitmq.down()
    brokerDown = true
    const downAt = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 10_000))
    const pendingDuringOutage = await Promise.all(runs.map((run) => run.fixture.outbox.pendingCount()))
    brokerDown = false
    let downForMs = 0
    try {
      await rabbitmq.up()
      downForMs = Date.now() - downAt
      // Traffic flows again while the application keeps committing…
      const committedAtRestart = runs.map((run) => run.committed)
      await waitUntil(
        () => runs.every((run, index) => run.seen.length > (committedAtRestart[index] ?? 0) - 1 && run.committed > (committedAtRestart[index] ?? 0) + 10),
        120_000,
        'traffic after the outage',
      )
    } finally {
      // …then it stops, so that draining is measured against a fixed count, not a moving one on a loaded machine.
      stop = true
      await committing.catch(() => {})
    }

    for (const [index, run] of runs.entries()) {
      await waitUntil(
        async () => new Set(run.seen.map((message) => message.id)).size === run.committed,
        120_000,
        `all ${run.committed} messages of ${run.fixture.name}`,
      )
      expect(run.committedWhileDown).toBeGreaterThan(100)
      expect(pendingDuringOutage[index]).toBeGreaterThan(0)
      // Per key, the first delivery of each message comes in the order it was committed.
      const first = new Map<string, Step>()
      for (const message of run.seen) if (!first.has(message.id)) first.set(message.id, message.body)
      for (let key = 0; key < keys; key++) {
        const sequences = [...first.values()].filter((step) => step.key === `k${key}`).map((step) => step.sequence)
        expect(sequences).toEqual([...sequences].sort((a, b) => a - b))
      }
      expect(await run.fixture.outbox.deadLetters().list()).toEqual([])
      console.log(
        `[outage test, ${run.fixture.name}] relay errors: ${[...relayErrors].join(' | ')}; broker down ${(downForMs / 1000).toFixed(1)} s; ${run.committedWhileDown} commits while down; ${run.committed} messages, ${run.seen.length} deliveries`,
      )
    }
  }, 240_000)
})
