/**
 * `pnpm chaos [kafka|rabbitmq|redis...] [--ci] [--freeze] [--messages N] [--deadline-seconds S] [--driver NAME] [--json file]`: queue and topic traffic
 * through the clusters of scripts/cluster.sh while nodes are SIGKILLed, a leader is frozen (SIGSTOP,
 * then SIGCONT: a node that keeps its connections and answers nothing), a consumer process is
 * SIGKILLed and client connections are cut; then checks that every confirmed message arrived.
 * `--freeze` adds the freeze to the CI-sized plan, which leaves it out to keep CI short.
 * Bounded in count and time; stops its processes and proxies whatever happens. Exit code 1 when a
 * confirmed message is lost or a planned fault could not be made.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { connect } from '@anymq/core'
import type { ChaosBody, ChaosWorkerSettings, DeliveryReport } from './chaos-protocol.js'
import { ChaosProxy } from './chaos-proxy.js'
import { type ChaosBroker, type ChaosTarget, chaosBrokers, chaosTarget, cluster } from './chaos-targets.js'

/** `leader`: SIGKILL, started again 3 s later; `freeze`: SIGSTOP, SIGCONT after `freezeSeconds`. */
type FaultKind = 'leader' | 'freeze' | 'consumer' | 'cut'
/** Longer than Kafka's session timeout and RabbitMQ's and Redis' failover waits: the cluster acts on it. */
const freezeSeconds = 20

interface Plan {
  messages: number
  publishers: number
  consumers: number
  concurrency: number
  /** Publishing is paced to last about this long, so the faults land while traffic flows. */
  trafficSeconds: number
  /** Faults, each at a fraction of the planned traffic (after the previous one has recovered). */
  faults: Array<{ at: number; kind: FaultKind }>
  drainSeconds: number
  deadlineSeconds: number
}

const fullPlan: Plan = {
  messages: 100_000,
  publishers: 20,
  consumers: 2,
  concurrency: 16,
  trafficSeconds: 240,
  faults: [
    { at: 0.1, kind: 'leader' },
    { at: 0.3, kind: 'consumer' },
    { at: 0.4, kind: 'cut' },
    { at: 0.5, kind: 'leader' },
    { at: 0.65, kind: 'freeze' },
    { at: 0.8, kind: 'leader' },
  ],
  drainSeconds: 180,
  deadlineSeconds: 900,
}

const ciPlan: Plan = {
  ...fullPlan,
  messages: 4_000,
  trafficSeconds: 40,
  faults: [
    { at: 0.2, kind: 'leader' },
    { at: 0.5, kind: 'consumer' },
    { at: 0.6, kind: 'cut' },
  ],
  drainSeconds: 90,
  deadlineSeconds: 300,
}

interface FaultRecord {
  kind: FaultKind
  node?: string
  at: number
  /** When the fault had surely taken effect (the kill returned, the sockets were reset). */
  effectiveAt?: number
  /** ms from the fault until every publisher had a send confirmed that started after it took effect. */
  publishRecoveryMs?: number
  /** ms until the node was back (leader) or the replacement consumer attached (consumer). */
  restoredMs?: number
  connectionsCut?: number
}

/**
 * The repeated deliveries of a run counted by the latest fault before each, per queue / topic and
 * per cause: `readAgain` (attempt 1: read again from the broker, e.g. past an offset not yet committed)
 * or `retried` (attempt above 1: the handler's outcome was lost and the retry path sent it back),
 * and by consumer process (`first -> again`: who got it first, who again). At-least-once allows
 * duplicates, not without a cause.
 */
function duplicatesByFault(
  repeats: ReadonlyArray<{ kind: 'queue' | 'topic'; at: number; attempt: number; pid: number; firstPid: number }>,
  faults: readonly FaultRecord[],
  trafficStart: number,
) {
  const counts: Record<string, { queue: number; topic: number; readAgain: number; retried: number; byConsumer: Record<string, number> }> = {}
  for (const repeat of repeats) {
    const fault = faults.filter((record) => record.at <= repeat.at).at(-1)
    const name = fault ? `${fault.kind} at ${((fault.at - trafficStart) / 1000).toFixed(1)} s` : 'no fault yet'
    const entry = (counts[name] ??= { queue: 0, topic: 0, readAgain: 0, retried: 0, byConsumer: {} })
    entry[repeat.kind]++
    if (repeat.attempt > 1) entry.retried++
    else entry.readAgain++
    const who = `${repeat.firstPid} -> ${repeat.pid}`
    entry.byConsumer[who] = (entry.byConsumer[who] ?? 0) + 1
  }
  return counts
}

/**
 * From a message's confirmation to its first delivery: p99, and the slowest five (a message held
 * back for long, e.g. behind a stuck commit point, shows here before it shows as a loss).
 */
function deliveryDelays(confirmedAt: ReadonlyMap<string, number>, firsts: ReadonlyMap<string, { pid: number; at: number }>, trafficStart: number) {
  const delays: Array<{ message: string; ms: number; confirmedAt: string; pid: number | undefined }> = []
  for (const [name, confirmed] of confirmedAt) {
    const first = firsts.get(name)
    if (first === undefined) continue
    delays.push({ message: name, ms: Math.max(0, first.at - confirmed), confirmedAt: `${((confirmed - trafficStart) / 1000).toFixed(1)} s`, pid: first.pid })
  }
  delays.sort((a, b) => b.ms - a.ms)
  return { p99: p99(delays.map((delay) => delay.ms)), slowest: delays.slice(0, 5) }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const p99 = (values: number[]) => {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]
}

async function runBroker(broker: ChaosBroker, plan: Plan, driver: string | undefined) {
  const startedAt = Date.now()
  const deadline = startedAt + plan.deadlineSeconds * 1_000
  console.log(`chaos ${broker}: cluster up`)
  await cluster('up', broker)
  const target: ChaosTarget = await chaosTarget(broker)
  // The adapter's broker option `driver` picks its client library (Redis: node-redis or ioredis).
  if (driver) target.brokerOptions = { ...target.brokerOptions, driver }
  const proxies = await Promise.all(target.proxied.map(([listen, to]) => ChaosProxy.start(listen, to)))
  const runId = `chaos-${Date.now().toString(36)}`
  const settings: ChaosWorkerSettings = {
    url: target.url,
    broker: target.brokerOptions,
    queue: runId,
    topic: `${runId}-events`,
    subscription: 'audit',
    concurrency: plan.concurrency,
  }

  // what arrived, by kind, id -> deliveries
  const received = { queue: new Map<string, number>(), topic: new Map<string, number>() }
  const lastSequence = new Map<string, number>()
  let orderViolations = 0
  /** Every delivery after a message's first: when, and of which kind, to tell which fault caused it. */
  const repeats: Array<Pick<DeliveryReport, 'kind' | 'at' | 'attempt' | 'pid'> & { firstPid: number }> = []
  /** Which consumer process got each message first, and when. */
  const firsts = new Map<string, { pid: number; at: number }>()
  const onDelivery = (report: DeliveryReport) => {
    const seen = received[report.kind]
    const count = seen.get(report.id) ?? 0
    seen.set(report.id, count + 1)
    const name = `${report.kind}/${report.id}`
    if (count === 0) firsts.set(name, { pid: report.pid, at: report.at })
    else repeats.push({ kind: report.kind, at: report.at, attempt: report.attempt, pid: report.pid, firstPid: firsts.get(name)?.pid ?? 0 })
    if (count > 0 || report.key === undefined) return
    const orderKey = `${report.kind}/${report.key}`
    const last = lastSequence.get(orderKey) ?? -1
    if (report.sequence < last) orderViolations++
    else lastSequence.set(orderKey, report.sequence)
  }

  const workers = new Set<ChildProcess>()
  /** Nodes SIGSTOPped and not yet continued. */
  const frozen = new Set<number>()
  const startWorker = () =>
    new Promise<ChildProcess>((resolve, reject) => {
      const child = fork(new URL('./chaos-consumer.ts', import.meta.url).pathname, [], {
        env: { ...process.env, ANYMQ_CHAOS_WORKER: JSON.stringify(settings) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      workers.add(child)
      const timer = setTimeout(() => reject(new Error('a consumer process did not attach within 120 s')), 120_000)
      child.on('message', (message: DeliveryReport | { type: 'ready' }) => {
        if (message.type === 'delivery') onDelivery(message)
        else if (message.type === 'ready') {
          clearTimeout(timer)
          resolve(child)
        }
      })
      child.on('exit', (code, signal) => {
        workers.delete(child)
        clearTimeout(timer)
        reject(new Error(`a consumer process exited before attaching (${signal ?? code})`))
      })
    })

  const faults: FaultRecord[] = []
  const confirmed = { queue: new Set<string>(), topic: new Set<string>() }
  const latencies: Array<{ startedAt: number; ms: number }> = []
  let sendErrors = 0
  let attempted = 0
  /** When each message (`<kind>/<id>`) was confirmed, to measure how late its first delivery came. */
  const confirmedAt = new Map<string, number>()
  /** Per publisher, the times its sends started and were confirmed, to measure recovery. */
  const confirmations: Array<Array<{ startedAt: number; confirmedAt: number }>> = Array.from({ length: plan.publishers }, () => [])
  let consumerKilled: ChildProcess | undefined

  const quiet = { debug() {}, info() {}, warn() {}, error() {} }
  const mq = await connect(target.url, { broker: target.brokerOptions, logger: quiet })
  try {
    console.log(`chaos ${broker}: starting ${plan.consumers} consumer processes`)
    for (let index = 0; index < plan.consumers; index++) await startWorker()

    const perPublisher = Math.ceil(plan.messages / plan.publishers)
    const intervalMs = (plan.trafficSeconds * 1_000 * plan.publishers) / plan.messages
    const trafficStart = Date.now()
    const publisher = async (index: number) => {
      const kind = index % 2 === 0 ? 'queue' : 'topic'
      const queue = mq.queue<ChaosBody>(settings.queue)
      const topic = mq.topic<ChaosBody>(settings.topic)
      for (let sequence = 0; sequence < perPublisher && attempted < plan.messages; sequence++) {
        attempted++
        const due = trafficStart + (sequence + index / plan.publishers) * intervalMs
        if (due > Date.now()) await sleep(due - Date.now())
        // half keyed (4 keys per publisher, so one sender per key and a defined order), half not
        const key = sequence % 2 === 0 ? `p${index}-k${sequence % 8}` : undefined
        const body: ChaosBody = { id: `${index}-${sequence}`, publisher: index, sequence, key }
        const sendStarted = Date.now()
        for (;;) {
          if (Date.now() > deadline) throw new Error('deadline reached while publishing')
          const attemptStarted = Date.now()
          try {
            if (kind === 'queue') await queue.send(body, key === undefined ? {} : { key })
            else await topic.publish(body, key === undefined ? {} : { key })
            const now = Date.now()
            confirmed[kind].add(body.id)
            confirmedAt.set(`${kind}/${body.id}`, now)
            latencies.push({ startedAt: sendStarted, ms: now - sendStarted })
            confirmations[index]?.push({ startedAt: attemptStarted, confirmedAt: now })
            break
          } catch {
            // not confirmed: maybe stored, maybe not; sent again with the same id (a duplicate at worst)
            sendErrors++
            await sleep(200)
          }
        }
      }
    }

    // A killed node restarts in the background (a RabbitMQ node takes ~30 s here) while the other
    // faults go on; the next leader kill waits for it, so at most one node is down at a time.
    let restarting: Promise<void> = Promise.resolve()
    const faultRunner = async () => {
      for (const fault of plan.faults) {
        while (attempted < plan.messages * fault.at) {
          if (Date.now() > deadline) return
          await sleep(100)
        }
        if (fault.kind === 'leader' || fault.kind === 'freeze') await restarting
        const record: FaultRecord = { kind: fault.kind, at: Date.now() }
        if (fault.kind === 'leader' || fault.kind === 'freeze') {
          let node: string | undefined
          for (let tries = 0; tries < 50 && !node; tries++) {
            node = await target.leader(settings.queue)
            if (!node) await sleep(200)
          }
          if (!node) throw new Error(`no leader found for ${settings.queue}`)
          record.node = node
          record.at = Date.now()
          if (fault.kind === 'leader') {
            await cluster('kill', node)
            record.effectiveAt = Date.now()
            faults.push(record)
            console.log(`chaos ${broker}: SIGKILLed leader ${node} at ${((record.at - trafficStart) / 1000).toFixed(1)} s`)
            restarting = (async () => {
              await sleep(3_000)
              await cluster('start', node)
              record.restoredMs = Date.now() - record.at
            })()
          } else {
            const pid = Number((await cluster('pid', node)).trim())
            process.kill(pid, 'SIGSTOP')
            frozen.add(pid)
            record.effectiveAt = Date.now()
            faults.push(record)
            console.log(`chaos ${broker}: froze leader ${node} (SIGSTOP) at ${((record.at - trafficStart) / 1000).toFixed(1)} s`)
            restarting = (async () => {
              await sleep(freezeSeconds * 1_000)
              process.kill(pid, 'SIGCONT')
              frozen.delete(pid)
              record.restoredMs = Date.now() - record.at
              console.log(`chaos ${broker}: thawed ${node} (SIGCONT) after ${freezeSeconds} s`)
            })()
          }
        } else if (fault.kind === 'consumer') {
          const victim = [...workers][0]
          if (!victim) throw new Error('no consumer process to kill')
          faults.push(record)
          consumerKilled = victim
          victim.kill('SIGKILL')
          console.log(`chaos ${broker}: SIGKILLed consumer process ${victim.pid}`)
          await startWorker()
          record.restoredMs = Date.now() - record.at
        } else {
          faults.push(record)
          record.connectionsCut = proxies.reduce((sum, proxy) => sum + proxy.cut(1_000), 0) / 2
          record.effectiveAt = Date.now()
          console.log(`chaos ${broker}: cut ${record.connectionsCut} client connections`)
        }
      }
      await restarting
    }

    const progress = setInterval(() => {
      const total = confirmed.queue.size + confirmed.topic.size
      console.log(
        `chaos ${broker}: ${((Date.now() - trafficStart) / 1000).toFixed(0)} s, confirmed ${total}, received ${received.queue.size + received.topic.size}, send errors ${sendErrors}`,
      )
    }, 10_000)
    try {
      await Promise.all([Promise.all(Array.from({ length: plan.publishers }, (_, index) => publisher(index))), faultRunner()])
      const trafficEnd = Date.now()
      // drain: every confirmed message must arrive
      const drainDeadline = Math.min(deadline, Date.now() + plan.drainSeconds * 1_000)
      const missing = () =>
        [...confirmed.queue].filter((id) => !received.queue.has(id)).length + [...confirmed.topic].filter((id) => !received.topic.has(id)).length
      while (missing() > 0 && Date.now() < drainDeadline) await sleep(250)
      await sleep(2_000) // late duplicates
      const drainedAt = Date.now()

      for (const record of faults) {
        if (record.kind === 'consumer') continue
        // undefined when no publisher sent anything after the fault (the traffic had ended)
        let worst: number | undefined
        for (const list of confirmations) {
          const first = list.find((entry) => entry.startedAt >= (record.effectiveAt ?? record.at))
          if (!first) continue
          worst = Math.max(worst ?? 0, first.confirmedAt - record.at)
        }
        record.publishRecoveryMs = worst
      }
      const firstFault = faults[0]?.at ?? trafficEnd
      const lastFault = faults.at(-1)
      const calmFrom = lastFault ? lastFault.at + (lastFault.publishRecoveryMs ?? 0) + (lastFault.restoredMs ?? 0) : trafficEnd
      const deliveries = (map: Map<string, number>) => [...map.values()].reduce((sum, count) => sum + count, 0)
      const lost = missing()
      // A few of the lost ids (`<publisher>-<sequence>`), to look them up on the broker.
      const lostSample = [
        ...[...confirmed.queue].filter((id) => !received.queue.has(id)).map((id) => `queue ${id}`),
        ...[...confirmed.topic].filter((id) => !received.topic.has(id)).map((id) => `topic ${id}`),
      ].slice(0, 20)
      // Where the lost ones are: still waiting on the broker (a consumer stuck) or gone (a commit or
      // an acknowledgement past them). Read only on a loss; a broker without stats says so.
      const waitingAtEnd =
        lost === 0
          ? undefined
          : await Promise.all([mq.queue(settings.queue).stats(), mq.topic(settings.topic).stats(settings.subscription)]).then(
              ([queueStats, topicStats]) => ({ queue: queueStats.ready, topic: topicStats.ready }),
              (error: unknown) => `stats unavailable: ${error instanceof Error ? error.message : String(error)}`,
            )
      const result = {
        broker,
        driver: (target.brokerOptions.driver as string | undefined) ?? 'default',
        url: target.url.replace(/\/\/[^@]*@/, '//'),
        plan: { messages: plan.messages, publishers: plan.publishers, consumers: plan.consumers, concurrency: plan.concurrency },
        sent: attempted,
        confirmed: confirmed.queue.size + confirmed.topic.size,
        sendErrors,
        receivedUnique: received.queue.size + received.topic.size,
        deliveries: deliveries(received.queue) + deliveries(received.topic),
        lost,
        lostSample,
        waitingAtEnd,
        duplicates: deliveries(received.queue) + deliveries(received.topic) - (received.queue.size + received.topic.size),
        duplicatesAfter: duplicatesByFault(repeats, faults, trafficStart),
        firstDeliveryMs: deliveryDelays(confirmedAt, firsts, trafficStart),
        unconfirmedButReceived:
          [...received.queue.keys()].filter((id) => !confirmed.queue.has(id)).length +
          [...received.topic.keys()].filter((id) => !confirmed.topic.has(id)).length,
        keyOrderViolations: orderViolations,
        faults: faults.map(({ effectiveAt: _, ...record }) => ({ ...record, at: `${((record.at - trafficStart) / 1000).toFixed(1)} s` })),
        consumerKilledPid: consumerKilled?.pid,
        p99Ms: {
          before: p99(latencies.filter((entry) => entry.startedAt < firstFault).map((entry) => entry.ms)),
          during: p99(latencies.filter((entry) => entry.startedAt >= firstFault && entry.startedAt < calmFrom).map((entry) => entry.ms)),
          after: p99(latencies.filter((entry) => entry.startedAt >= calmFrom).map((entry) => entry.ms)),
        },
        trafficSeconds: Number(((trafficEnd - trafficStart) / 1000).toFixed(1)),
        drainSeconds: Number(((drainedAt - trafficEnd) / 1000).toFixed(1)),
        totalSeconds: Number(((Date.now() - startedAt) / 1000).toFixed(1)),
      }
      return result
    } finally {
      clearInterval(progress)
    }
  } finally {
    // A run that failed mid-freeze leaves no node stopped behind it.
    for (const pid of frozen) process.kill(pid, 'SIGCONT')
    for (const worker of workers) worker.send?.({ type: 'stop' })
    await sleep(500)
    for (const worker of workers) worker.kill('SIGKILL')
    await mq.close().catch(() => {})
    await Promise.all(proxies.map((proxy) => proxy.close()))
  }
}

const args = process.argv.slice(2)
const ci = args.includes('--ci')
const plan: Plan = { ...(ci ? ciPlan : fullPlan) }
if (ci && args.includes('--freeze')) plan.faults = [...plan.faults, { at: 0.8, kind: 'freeze' }]
const messagesIndex = args.indexOf('--messages')
if (messagesIndex >= 0) plan.messages = Number(args[messagesIndex + 1])
// A slow cluster (Kafka's acks=all across three JVMs on two shared cores) needs more than 900 s for 100,000.
const deadlineIndex = args.indexOf('--deadline-seconds')
if (deadlineIndex >= 0) plan.deadlineSeconds = Number(args[deadlineIndex + 1])
const driverIndex = args.indexOf('--driver')
const driver = driverIndex >= 0 ? args[driverIndex + 1] : undefined
const jsonIndex = args.indexOf('--json')
const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined
const named = args.filter(
  (arg, index) => (chaosBrokers as readonly string[]).includes(arg) && !['--json', '--deadline-seconds', '--driver'].includes(args[index - 1] as string),
) as ChaosBroker[]
const brokers = named.length > 0 ? named : [...chaosBrokers]

let failed = false
const results = []
for (const broker of brokers) {
  try {
    const result = await runBroker(broker, plan, driver)
    results.push(result)
    console.log(JSON.stringify(result, null, 2))
    const leaderKills = result.faults.filter((fault) => fault.kind === 'leader' || fault.kind === 'freeze').length
    const planned = plan.faults.filter((fault) => fault.kind === 'leader' || fault.kind === 'freeze').length
    if (result.lost > 0 || leaderKills < planned || result.faults.length < plan.faults.length) {
      failed = true
      // One line with what a CI digest needs to tell a stuck consumer from a lost message.
      const waiting = typeof result.waitingAtEnd === 'object' ? `queue ${result.waitingAtEnd.queue}, topic ${result.waitingAtEnd.topic}` : result.waitingAtEnd
      console.error(
        `chaos ${broker}: FAILED (lost ${result.lost}, faults ${result.faults.length}/${plan.faults.length}; still waiting on the broker: ${waiting ?? 'not read'}; e.g. ${result.lostSample.slice(0, 4).join(', ') || 'none'}; drained for ${result.drainSeconds} s)`,
      )
    } else console.log(`chaos ${broker}: passed, 0 of ${result.confirmed} confirmed messages lost, ${result.duplicates} duplicates`)
  } catch (error) {
    failed = true
    console.error(`chaos ${broker}: FAILED: ${error instanceof Error ? error.stack : String(error)}`)
  }
}
if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`)
process.exit(failed ? 1 : 0)
