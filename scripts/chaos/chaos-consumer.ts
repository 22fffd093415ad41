/**
 * A consumer process of the chaos suite (forked by chaos-run.ts, killed by it with SIGKILL once).
 * Consumes the run's queue and its topic subscription, and reports every delivery to the parent
 * over IPC *before* the handler returns: a delivery is acknowledged only after the parent has it, so
 * a kill can add duplicates to the count but never hide a message.
 */
import { connect } from '@anymq/core'
import type { ChaosBody, ChaosWorkerSettings, DeliveryReport } from './chaos-protocol.js'

const settings = JSON.parse(process.env.ANYMQ_CHAOS_WORKER ?? '{}') as ChaosWorkerSettings

function report(delivery: DeliveryReport): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send?.(delivery, undefined, {}, (error) => (error ? reject(error) : resolve()))
  })
}

const say = (message: string) => console.error(`[consumer ${process.pid} ${new Date().toISOString()}] ${message}`)
// ANYMQ_CHAOS_LOG=1: the adapter's debug and warn lines too (failed commits, rejoins), to tell where duplicates came from.
const verbose = process.env.ANYMQ_CHAOS_LOG === '1'
const quiet = { debug: verbose ? say : () => {}, info() {}, warn: verbose ? say : () => {}, error: say }
// A replacement process may start while a node is down: like a supervised service, it tries again.
const mq = await (async () => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect(settings.url, { broker: settings.broker, logger: quiet })
    } catch (error) {
      if (attempt >= 30) throw error
      await new Promise((resolve) => setTimeout(resolve, 2_000))
    }
  }
})()
// Lost connections are the point of the run (the adapter retries them): said only with ANYMQ_CHAOS_LOG=1.
const onError = (error: Error) => {
  if (verbose) say(`onError: ${error.message}`)
}
const handle = (kind: 'queue' | 'topic') => async (message: { body: ChaosBody; attempt: number }) => {
  await report({
    type: 'delivery',
    kind,
    id: message.body.id,
    key: message.body.key,
    sequence: message.body.sequence,
    publisher: message.body.publisher,
    attempt: message.attempt,
    pid: process.pid,
    at: Date.now(),
  })
}
const queue = mq.queue<ChaosBody>(settings.queue, { retry: { maxAttempts: 1_000, backoff: { type: 'fixed', delayMs: 100 } }, deadLetter: false })
const queueSubscription = queue.consume(handle('queue'), { concurrency: settings.concurrency, onError })
const topicSubscription = mq.topic<ChaosBody>(settings.topic).subscribe(settings.subscription, handle('topic'), {
  concurrency: settings.concurrency,
  retry: { maxAttempts: 1_000, backoff: { type: 'fixed', delayMs: 100 } },
  deadLetter: false,
  onError,
})
await Promise.all([queueSubscription.ready, topicSubscription.ready])
process.send?.({ type: 'ready' })

process.on('message', async (message: { type?: string }) => {
  if (message.type !== 'stop') return
  await mq.close().catch(() => {})
  process.exit(0)
})
