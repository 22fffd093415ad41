import { parseArgs } from 'node:util'
import { type CliIo, line, UsageError } from './cli-io.js'
import { connectUrl } from './connect-url.js'
import { isLoopback } from './dashboard-access.js'
import { startDashboard } from './dashboard-server.js'
import { parseTarget } from './dashboard-state.js'
import { noteInProcessBroker } from './in-process-note.js'
import { count } from './message-commands.js'

export const dashboardUsage = `anymq dashboard <url> [--port 7780] [--host 127.0.0.1] [--token <t>] [--read-only]
                [--queue q …] [--subscription topic/sub …] [--prefix p] [--interval ms]
  A web page of the broker: queues and subscriptions with their depths and a live chart, the dead
  letters of each with redrive/delete per message and for all. Everything anymq made is shown where
  the adapter can list; name more (or, where it cannot list, all) with --queue and --subscription.
  Bound to 127.0.0.1 unless --host says otherwise; any other host needs a token (--token, or one is
  generated and printed once). --read-only refuses every action that changes the broker.`

/** Runs the dashboard until Ctrl-C (or until `signal` aborts, for tests). */
export async function dashboardCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'read-only': { type: 'boolean' },
      queue: { type: 'string', multiple: true },
      subscription: { type: 'string', multiple: true },
      prefix: { type: 'string' },
      interval: { type: 'string' },
    },
  })
  const [url] = positionals
  if (url === undefined || positionals.length > 1) throw new UsageError('anymq dashboard takes one broker URL')
  const port = values.port === undefined ? 7780 : Number(values.port)
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError(`--port takes a port number 0–65535, got ${JSON.stringify(values.port)}`)
  if (values.token !== undefined && values.token.length < 16) throw new UsageError('--token must be at least 16 characters')
  for (const name of values.subscription ?? [])
    if (parseTarget(name).kind !== 'subscription') throw new UsageError(`--subscription takes topic/subscription, got ${JSON.stringify(name)}`)
  const host = values.host ?? '127.0.0.1'
  const named = [...(values.queue ?? []), ...(values.subscription ?? [])].map(parseTarget)
  const mq = await connectUrl(url, io)
  noteInProcessBroker(mq, io, 'the dashboard shows only what this same process holds, an empty broker from a shell')
  try {
    const dashboard = await startDashboard(mq, {
      host,
      port,
      token: values.token,
      readOnly: values['read-only'] ?? false,
      named,
      prefix: values.prefix,
      intervalMs: count(values.interval, 2000, 'interval'),
      onError: (error) => line(io.stderr, `anymq dashboard: ${error instanceof Error ? error.name : 'error'} while serving a request`),
    })
    line(io.stdout, `anymq dashboard of ${mq.url} (adapter ${mq.adapter})${values['read-only'] ? ', read-only' : ''}`)
    // The generated token is printed this once; a token given with --token is the user's and not echoed.
    if (dashboard.token !== undefined && values.token === undefined)
      line(io.stdout, `open ${dashboard.url}?token=${dashboard.token}   (the token is shown only now)`)
    else if (dashboard.token !== undefined) line(io.stdout, `open ${dashboard.url}?token=<your --token>`)
    else line(io.stdout, `open ${dashboard.url}`)
    if (!isLoopback(host))
      line(io.stdout, `listening on ${host}: anyone who can reach it and has the token can ${values['read-only'] ? 'read' : 'change'} this broker`)
    line(io.stdout, 'Ctrl-C to stop')
    await new Promise<void>((resolve) => {
      const stop = () => resolve()
      if (signal) {
        if (signal.aborted) stop()
        signal.addEventListener('abort', stop, { once: true })
      } else {
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      }
    })
    await dashboard.close()
  } finally {
    await mq.close()
  }
  return 0
}
