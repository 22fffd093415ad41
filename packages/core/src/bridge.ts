import type { Codec } from './codec.js'
import type { Anymq } from './connection.js'
import { ConfigError } from './errors.js'
import type { Message } from './message.js'
import type { QueueOptions } from './queue.js'
import type { Subscription } from './subscription.js'
import type { TopicOptions } from './topic.js'

/** One queue of the source broker, forwarded to a queue of the target broker (same name by default). */
export interface BridgeQueueRoute {
  from: string
  /** Target queue. Default: `from`. */
  to?: string
  /** How the application declared the source queue (dead-letter queue, `broker` options), so declaring it again agrees. */
  fromOptions?: Omit<QueueOptions<Uint8Array>, 'codec' | 'schema'>
  /** How the application declares the target queue. */
  toOptions?: Omit<QueueOptions<Uint8Array>, 'codec' | 'schema'>
}

/** A named subscription of a source topic, forwarded to a topic of the target broker (same topic name by default). */
export interface BridgeSubscriptionRoute {
  topic: string
  subscription: string
  /** Target topic. Default: `topic`. */
  to?: string
  fromOptions?: Omit<TopicOptions<Uint8Array>, 'codec' | 'schema'>
  toOptions?: Omit<TopicOptions<Uint8Array>, 'codec' | 'schema'>
}

/** Options of {@link bridge}. */
export interface BridgeOptions {
  /** Queues to forward: a name (same name on the target) or a route. */
  queues?: ReadonlyArray<string | BridgeQueueRoute>
  /** Topic subscriptions to forward. */
  subscriptions?: ReadonlyArray<BridgeSubscriptionRoute>
  /** Messages forwarded at once per route (one key still one at a time, in order). Default 16. */
  concurrency?: number
  /**
   * `drained` (default): stop once no route has received anything for `idleMs`. `stopped`: keep
   * forwarding live traffic until `stop()` or the signal.
   */
  until?: 'drained' | 'stopped'
  /** Quiet time that counts as drained. Default 2000 ms. */
  idleMs?: number
  /** Content type the forwarded bytes are sent with (the bytes themselves are not touched). Default `application/json`. */
  contentType?: string
  /** Called after every forwarded message and once a second at most while idle. */
  onProgress?: (progress: BridgeReport) => void
  /** Aborting it stops the bridge like `stop()`. */
  signal?: AbortSignal
  /** Errors of the target broker that the bridge retries (a send is retried until it succeeds or the bridge stops). Default: ignored. */
  onError?: (error: Error) => void
}

/** Counts of one route. `received` − `duplicates` = `forwarded` once every received message is settled. */
export interface BridgeRouteReport {
  from: string
  to: string
  /** Deliveries taken from the source, redeliveries included. */
  received: number
  /** Distinct message ids sent to the target and confirmed by it. */
  forwarded: number
  /** Redeliveries of an id this bridge had already forwarded: acked on the source, not sent again. */
  duplicates: number
}

/** What a bridge has done so far (or in all, once it is done). */
export interface BridgeReport {
  routes: BridgeRouteReport[]
  received: number
  forwarded: number
  duplicates: number
  /** Whether the run stopped because every route was drained (`false` while running or when stopped). */
  drained: boolean
}

/** A running bridge. */
export interface Bridge {
  /** Resolves with the final report once drained (`until: 'drained'`) or stopped. Rejects only if a route cannot start. */
  readonly done: Promise<BridgeReport>
  /** The counts so far. */
  report(): BridgeReport
  /** Stops taking messages, lets the ones being forwarded finish (or hands them back), resolves with the final report. */
  stop(): Promise<BridgeReport>
}

const identity = (bytes: Uint8Array) => bytes
const rememberedIds = 100_000

/**
 * Forwards queues and topic subscriptions from one broker to another, at least once: a message is
 * acked on the source only after the target confirmed it, keeping its id, key, headers and subject,
 * and the order of each key (one key is forwarded one message at a time). Bodies travel as bytes,
 * untouched. A failing target send is retried (backing off to 5 s) until it succeeds or the bridge
 * stops, when the message is handed back to the source untouched — never dead-lettered by the bridge.
 *
 * Duplicates: an id this bridge already forwarded is acked and not sent again (redeliveries during a
 * run). After a bridge process is killed, the messages it had sent but not yet acked are sent again;
 * the target drops them where it deduplicates (`dedupeId` = the message id is passed when the target
 * has the `dedupe` capability), otherwise consumers with `idempotency` (keyed by message id) do.
 */
export function bridge(from: Anymq, to: Anymq, options: BridgeOptions): Bridge {
  const concurrency = options.concurrency ?? 16
  const idleMs = options.idleMs ?? 2000
  const until = options.until ?? 'drained'
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ConfigError([{ field: 'bridge concurrency', message: `must be an integer >= 1, got ${String(options.concurrency)}` }])
  if (until !== 'drained' && until !== 'stopped')
    throw new ConfigError([{ field: 'bridge until', message: `must be 'drained' or 'stopped', got ${JSON.stringify(options.until)}` }])
  if (!Number.isInteger(idleMs) || idleMs < 1)
    throw new ConfigError([{ field: 'bridge idleMs', message: `must be an integer >= 1, got ${String(options.idleMs)}` }])
  const queues = (options.queues ?? []).map((route) => (typeof route === 'string' ? { from: route } : route))
  const subscriptions = options.subscriptions ?? []
  if (queues.length + subscriptions.length === 0) throw new ConfigError([{ field: 'bridge', message: 'nothing to forward: give queues and/or subscriptions' }])

  const codec: Codec<Uint8Array> = { contentType: options.contentType ?? 'application/json', encode: identity, decode: identity }
  const dedupe = Boolean(to.capabilities.dedupe)
  // Ids forwarded by this run, the oldest dropped past a bound: a redelivery comes soon after the original.
  const forwardedIds = new Set<string>()
  const remember = (id: string) => {
    forwardedIds.add(id)
    if (forwardedIds.size > rememberedIds) forwardedIds.delete(forwardedIds.values().next().value as string)
  }
  let lastActivity = Date.now()
  let inFlight = 0 // messages being forwarded (a target send retrying keeps the bridge from counting as drained)
  let stopping = false
  const stopped = new AbortController()
  const reports: BridgeRouteReport[] = []
  const running: Subscription[] = []

  const report = (drained = false): BridgeReport => {
    const totals = { received: 0, forwarded: 0, duplicates: 0 }
    for (const route of reports) {
      totals.received += route.received
      totals.forwarded += route.forwarded
      totals.duplicates += route.duplicates
    }
    return { routes: reports.map((route) => ({ ...route })), ...totals, drained }
  }

  const forwardWith =
    (counts: BridgeRouteReport, send: (message: Message<Uint8Array>) => Promise<unknown>) =>
    async (message: Message<Uint8Array>): Promise<void> => {
      counts.received++
      lastActivity = Date.now()
      if (forwardedIds.has(message.id)) {
        counts.duplicates++
        return
      }
      inFlight++
      try {
        for (let attempt = 0; ; attempt++) {
          if (stopping) {
            await message.release()
            return
          }
          try {
            await send(message)
            break
          } catch (error) {
            options.onError?.(error as Error)
            await sleep(Math.min(100 * 2 ** attempt, 5000), stopped.signal)
          }
        }
      } finally {
        inFlight--
        lastActivity = Date.now()
      }
      remember(message.id)
      counts.forwarded++
      options.onProgress?.(report())
    }

  const sendOptions = (message: Message<Uint8Array>) => ({
    id: message.id,
    ...(message.key !== undefined ? { key: message.key } : {}),
    headers: { ...message.headers },
  })

  for (const route of queues) {
    const counts: BridgeRouteReport = { from: `queue ${route.from}`, to: `queue ${route.to ?? route.from}`, received: 0, forwarded: 0, duplicates: 0 }
    reports.push(counts)
    const target = to.queue<Uint8Array>(route.to ?? route.from, { ...route.toOptions, codec })
    const source = from.queue<Uint8Array>(route.from, { ...route.fromOptions, codec })
    const handler = forwardWith(counts, (message) => target.send(message.body, { ...sendOptions(message), ...(dedupe ? { dedupeId: message.id } : {}) }))
    running.push(source.consume(handler, { concurrency, onError: options.onError }))
  }
  for (const route of subscriptions) {
    const toTopic = route.to ?? route.topic
    const counts: BridgeRouteReport = {
      from: `subscription ${route.topic}/${route.subscription}`,
      to: `topic ${toTopic}`,
      received: 0,
      forwarded: 0,
      duplicates: 0,
    }
    reports.push(counts)
    const target = to.topic<Uint8Array>(toTopic, { ...route.toOptions, codec })
    const source = from.topic<Uint8Array>(route.topic, { ...route.fromOptions, codec })
    const handler = forwardWith(counts, (message) =>
      target.publish(message.body, { ...sendOptions(message), ...(message.subject !== undefined ? { subject: message.subject } : {}) }),
    )
    running.push(source.subscribe(route.subscription, handler, { concurrency, onError: options.onError }))
  }

  let closing: Promise<BridgeReport> | undefined
  let drained = false
  const stop = (): Promise<BridgeReport> => {
    closing ??= (async () => {
      stopping = true
      stopped.abort()
      await Promise.allSettled(running.map((subscription) => subscription.close()))
      return report(drained)
    })()
    return closing
  }
  options.signal?.addEventListener('abort', () => void stop(), { once: true })
  if (options.signal?.aborted) void stop()

  const done = (async () => {
    await Promise.all(running.map((subscription) => subscription.ready))
    lastActivity = Date.now()
    if (until === 'drained') {
      while (!stopping) {
        const quietFor = inFlight > 0 ? 0 : Date.now() - lastActivity
        if (quietFor >= idleMs) {
          drained = true
          break
        }
        await sleep(Math.min(idleMs - quietFor, 1000), stopped.signal)
        if (!stopping) options.onProgress?.(report())
      }
      return stop()
    }
    await new Promise<void>((resolve) => stopped.signal.addEventListener('abort', () => resolve(), { once: true }))
    return stop()
  })()
  done.catch(() => void stop())
  return { done, report: () => report(drained), stop }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
