import { parseArgs } from 'node:util'
import { type BridgeQueueRoute, type BridgeReport, type BridgeSubscriptionRoute, bridge } from '@anymq/core'
import { type CliIo, line, UsageError } from './cli-io.js'
import { connectUrl } from './connect-url.js'
import { parseCount } from './statistics.js'

export const bridgeUsage = `anymq bridge <from-url> <to-url> --queue <name[=target]>... --subscription <topic/name[=target-topic]>...
             [--follow] [--concurrency <n>] [--idle <s>] [--content-type <type>]
  Forwards queues and topic subscriptions from one broker to another, at least once (acked on the
  source only after the target confirmed), keeping id, key, headers and the order of each key. Drains
  and stops once nothing arrived for --idle seconds (default 2), or with --follow keeps forwarding live
  traffic until interrupted (Ctrl-C: in-flight messages finish). Prints count in and count out per
  route; exits 1 if any message it took was not forwarded.`

/** `name=target` split at the first '=': whatever follows is the target, checked as a name (`split('=', 2)` would drop a second '=' and what follows it). */
function splitRoute(value: string): [string, string | undefined] {
  const equals = value.indexOf('=')
  return equals < 0 ? [value, undefined] : [value.slice(0, equals), value.slice(equals + 1)]
}

function parseQueue(value: string): BridgeQueueRoute {
  const [from, to] = splitRoute(value)
  if (!from) throw new UsageError(`--queue takes name or name=target, got ${JSON.stringify(value)}`)
  return to ? { from, to } : { from }
}

function parseSubscription(value: string): BridgeSubscriptionRoute {
  const [source, to] = splitRoute(value)
  const slash = source?.indexOf('/') ?? -1
  if (!source || slash <= 0 || slash === source.length - 1)
    throw new UsageError(`--subscription takes topic/subscription or topic/subscription=target-topic, got ${JSON.stringify(value)}`)
  return { topic: source.slice(0, slash), subscription: source.slice(slash + 1), ...(to ? { to } : {}) }
}

function reportTable(report: BridgeReport): string {
  const rows = [
    ['route', 'in', 'out', 'duplicates'],
    ...report.routes.map((route) => [`${route.from} → ${route.to}`, route.received, route.forwarded, route.duplicates].map(String)),
  ]
  rows.push(['total', String(report.received), String(report.forwarded), String(report.duplicates)])
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')).join('\n')
}

export async function bridgeCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      queue: { type: 'string', multiple: true },
      subscription: { type: 'string', multiple: true },
      follow: { type: 'boolean' },
      concurrency: { type: 'string' },
      idle: { type: 'string' },
      'content-type': { type: 'string' },
    },
  })
  const [fromUrl, toUrl] = positionals
  if (fromUrl === undefined || toUrl === undefined || positionals.length > 2) throw new UsageError('anymq bridge takes <from-url> <to-url>')
  const queues = (values.queue ?? []).map(parseQueue)
  const subscriptions = (values.subscription ?? []).map(parseSubscription)
  if (queues.length + subscriptions.length === 0) throw new UsageError('anymq bridge needs at least one --queue or --subscription')
  const concurrency = values.concurrency === undefined ? 16 : parseCount(values.concurrency)
  if (concurrency === undefined || concurrency < 1) throw new UsageError(`--concurrency takes a whole number ≥ 1, got ${JSON.stringify(values.concurrency)}`)
  const idleSeconds = values.idle === undefined ? 2 : Number(values.idle)
  if (!Number.isFinite(idleSeconds) || idleSeconds <= 0) throw new UsageError(`--idle takes seconds > 0, got ${JSON.stringify(values.idle)}`)

  const from = await connectUrl(fromUrl, io)
  let to: Awaited<ReturnType<typeof connectUrl>>
  try {
    to = await connectUrl(toUrl, io)
  } catch (error) {
    await from.close()
    throw error
  }
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let lastStatus = 0
  const status = (report: BridgeReport) => {
    const now = Date.now()
    if (now - lastStatus < (io.stderr.isTTY ? 100 : 5000)) return
    lastStatus = now
    const text = `bridge ${from.url} → ${to.url}: ${report.forwarded} forwarded, ${report.received} received, ${report.duplicates} duplicates`
    io.stderr.write(io.stderr.isTTY ? `\r${text}\x1b[K` : `${text}\n`)
  }
  try {
    const running = bridge(from, to, {
      queues,
      subscriptions,
      concurrency,
      until: values.follow ? 'stopped' : 'drained',
      idleMs: Math.round(idleSeconds * 1000),
      ...(values['content-type'] ? { contentType: values['content-type'] } : {}),
      signal: stop.signal,
      onProgress: (report) => status(report),
      onError: (error) => {
        if (io.stderr.isTTY) io.stderr.write('\r\x1b[K')
        line(io.stderr, `warning: ${error.message} (retrying)`)
      },
    })
    const report = await running.done
    if (io.stderr.isTTY) io.stderr.write('\r\x1b[K')
    line(io.stdout, reportTable(report))
    const lost = report.received - report.duplicates - report.forwarded
    if (lost !== 0) {
      line(io.stderr, `anymq bridge: ${lost} message(s) taken from the source were handed back unforwarded (they stay on the source)`)
      return 1
    }
    line(io.stdout, report.drained ? 'drained: count in = count out' : 'stopped: count in = count out')
    return 0
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await Promise.allSettled([from.close(), to.close()])
  }
}
