import { type Anymq, connect, type Queue, type Subscription, silentLogger } from '@anymq/core'
import amqp from 'amqplib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { RabbitmqNode } from './rabbitmq-node.js'

/**
 * Retries with backoff, `nack({ delayMs })` and delayed sends wait in anymq's delay queues. This
 * stops the broker (SIGKILL, or a clean stop) while hundreds of them are waiting there, starts it
 * again, and checks that every message still arrives or is in the dead-letter queue.
 */

type Kind = 'retry' | 'nack' | 'delayed' | 'warm-up'
interface Body {
  kind: Kind
  n: number
}

const perKind: Record<Exclude<Kind, 'warm-up'>, number> = { retry: 150, nack: 100, delayed: 100 }
/** Long enough that every first attempt is handled before the first retry is due, even on a loaded machine. */
const delayMs = 8_000
const queueTypes = ['classic', 'quorum'] as const
/** Quorum queues of other applications on the broker of the busy-broker case. */
const busyQueues = 500

interface Run {
  queue: Queue<Body>
  subscription: Subscription
  arrivals: Map<string, number>
  sent: Set<string>
}

interface Figures {
  pendingAtStop: number
  retriesConfirmedAtStop: number
  arrived: number
  deadLettered: number
  duplicates: number
  lost: number
}

function idOf(body: Body): string {
  return `${body.kind}-${body.n}`
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function start(mq: Anymq, name: string, queueType: (typeof queueTypes)[number]): Promise<Run> {
  const queue = mq.queue<Body>(`${name}-${queueType}`, {
    broker: { queueType },
    retry: { maxAttempts: 5, backoff: { type: 'fixed', delayMs, jitter: false } },
    deadLetter: `${name}-${queueType}.dlq`,
  })
  const arrivals = new Map<string, number>()
  const subscription = queue.consume(
    async (message) => {
      if (message.attempt === 1 && message.body.kind === 'retry') throw new Error('first attempt fails')
      if (message.attempt === 1 && message.body.kind === 'nack') {
        await message.nack({ delayMs })
        return
      }
      const id = idOf(message.body)
      arrivals.set(id, (arrivals.get(id) ?? 0) + 1)
      await message.ack()
    },
    { concurrency: 32, ack: 'manual', onError: () => {} },
  )
  await subscription.ready
  return { queue, subscription, arrivals, sent: new Set() }
}

async function sendAll(run: Run): Promise<void> {
  const now: Body[] = []
  const later: Body[] = []
  for (const kind of ['retry', 'nack', 'delayed'] as const) {
    for (let n = 0; n < perKind[kind]; n++) {
      ;(kind === 'delayed' ? later : now).push({ kind, n })
      run.sent.add(idOf({ kind, n }))
    }
  }
  await run.queue.sendBatch(now)
  await run.queue.sendBatch(later, { delayMs })
}

async function scenario(node: RabbitmqNode, name: string, stop: () => Promise<void>, downMs: number, arrivalMs = 180_000): Promise<Record<string, Figures>> {
  const mq = await connect(node.url, {
    adapter,
    logger: silentLogger,
    broker: { reconnectInitialDelayMs: 100, reconnectMaxDelayMs: 500, reconnectWaitMs: 60_000 },
  })
  try {
    const runs = new Map<string, Run>()
    for (const queueType of queueTypes) runs.set(queueType, await start(mq, name, queueType))
    // RabbitMQ 3.10 can lose the registration of a quorum queue declared shortly before a SIGKILL (it
    // comes back as a new, empty member that never elects a leader; see the README). The queues and the
    // delay queue are made first and survive a clean restart, as long-lived queues would have.
    for (const run of runs.values()) await run.queue.send({ kind: 'warm-up', n: 0 }, { delayMs })
    await waitFor('the warm-up messages', () => [...runs.values()].every((run) => run.arrivals.has('warm-up-0')), delayMs * 4)
    await node.stop()
    await node.start()
    for (const run of runs.values()) {
      run.arrivals.clear()
      await run.queue.send({ kind: 'warm-up', n: 1 })
    }
    await waitFor('the consumers to attach again', () => [...runs.values()].every((run) => run.arrivals.has('warm-up-1')), 60_000)
    for (const run of runs.values()) {
      run.arrivals.clear()
      await sendAll(run)
    }
    const retriedFirst = perKind.retry + perKind.nack
    await waitFor('every first attempt to be retried', () => [...runs.values()].every((run) => run.subscription.counts.retried >= retriedFirst), delayMs * 4)
    const atStop = new Map([...runs].map(([type, run]) => [type, { arrived: run.arrivals.size, retried: run.subscription.counts.retried }]))
    const stoppedAt = Date.now()
    await stop()
    const remaining = downMs - (Date.now() - stoppedAt)
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining))
    await node.start()

    const deadLetterIds = async (run: Run): Promise<Set<string>> =>
      new Set((await run.queue.deadLetters().peek(1_000)).map((letter) => idOf(letter.body as Body)))
    await waitFor(
      'every message to arrive or be dead-lettered',
      async () => {
        for (const run of runs.values()) {
          const dead = await deadLetterIds(run).catch(() => new Set<string>())
          if ([...run.sent].some((id) => !run.arrivals.has(id) && !dead.has(id))) return false
        }
        return true
      },
      arrivalMs,
    ).catch(() => {}) // the assertions below say what is missing
    // Late duplicates (redeliveries after the restart) still count.
    await new Promise((resolve) => setTimeout(resolve, 2_000))

    const figures: Record<string, Figures> = {}
    for (const [queueType, run] of runs) {
      const dead = await deadLetterIds(run)
      const at = atStop.get(queueType)!
      figures[queueType] = {
        pendingAtStop: run.sent.size - at.arrived,
        retriesConfirmedAtStop: at.retried,
        arrived: run.arrivals.size,
        deadLettered: dead.size,
        duplicates: [...run.arrivals.values()].reduce((sum, count) => sum + count - 1, 0),
        lost: [...run.sent].filter((id) => !run.arrivals.has(id) && !dead.has(id)).length,
      }
      await run.subscription.close()
    }
    return figures
  } finally {
    await mq.close().catch(() => {})
  }
}

const noRabbitmqServer = RabbitmqNode.available() ? '' : ' (no rabbitmq-server installed to start a node of its own: run scripts/brokers.sh up rabbitmq)'

describe.skipIf(!RabbitmqNode.available())(`rabbitmq: retries and delays across a broker crash (own node)${noRabbitmqServer}`, () => {
  // An AMQP port of this test's own (with the next two ports for management and distribution).
  const node = new RabbitmqNode(23_700 + (process.pid % 50) * 3)
  const total = perKind.retry + perKind.nack + perKind.delayed

  beforeAll(async () => {
    await node.start()
  }, 180_000)

  afterAll(async () => {
    await node.remove()
  }, 180_000)

  function check(figures: Record<string, Figures>): void {
    for (const queueType of queueTypes) {
      const result = figures[queueType]!
      // The stop must catch most messages waiting in a delay queue, or this proves nothing.
      expect(result.pendingAtStop, `${queueType}: messages pending at the stop`).toBeGreaterThanOrEqual(total * 0.9)
      expect(result.lost, `${queueType}: messages neither delivered nor dead-lettered`).toBe(0)
      expect(result.arrived + result.deadLettered).toBeGreaterThanOrEqual(total)
    }
  }

  it('SIGKILL, down for longer than the delay: every message arrives or is dead-lettered', async () => {
    const figures = await scenario(node, `crash-kill-${Date.now().toString(36)}`, () => node.kill(), delayMs + 4_000)
    console.info(`SIGKILL (${total} messages per queue type, ${delayMs} ms delay): ${JSON.stringify(figures)}`)
    check(figures)
  }, 420_000)

  it('clean stop and immediate start: every message arrives or is dead-lettered', async () => {
    const figures = await scenario(node, `crash-stop-${Date.now().toString(36)}`, () => node.stop(), 0)
    console.info(`clean restart (${total} messages per queue type, ${delayMs} ms delay): ${JSON.stringify(figures)}`)
    check(figures)
  }, 420_000)

  // A broker with a few hundred quorum queues recovers them before its default exchange can route: the
  // delay queues' dead-letter workers find no route and try again only after RabbitMQ's
  // dead_letter_worker_publisher_confirm_timeout (3 minutes). Delay queues with a lease of minutes were
  // deleted, with every message, before that. Minutes long, so only with ANYMQ_RABBITMQ_CRASH_FULL=1
  // (`pnpm test:rabbitmq-crash`).
  const busyCase = process.env.ANYMQ_RABBITMQ_CRASH_FULL === '1'
  it.runIf(busyCase)(
    `SIGKILL of a busy broker: every message still arrives, after its dead-letter workers retry${busyCase ? '' : ' (minutes long: pnpm test:rabbitmq-crash runs it)'}`,
    async () => {
      const model = await amqp.connect(node.url)
      try {
        const channel = await model.createChannel()
        for (let i = 0; i < busyQueues; i++) await channel.assertQueue(`crash-busy-${i}`, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
      } finally {
        await model.close()
      }
      const figures = await scenario(node, `crash-busy-${Date.now().toString(36)}`, () => node.kill(), delayMs + 4_000, 420_000)
      console.info(`SIGKILL with ${busyQueues} more quorum queues (${total} messages per queue type, ${delayMs} ms delay): ${JSON.stringify(figures)}`)
      check(figures)
    },
    900_000,
  )
})
