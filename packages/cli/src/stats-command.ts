import { parseArgs } from 'node:util'
import type { Anymq, DestinationStats } from '@anymq/core'
import { type CliIo, line, UsageError } from './cli-io.js'
import { connectUrl } from './connect-url.js'
import { parseTarget } from './dashboard-state.js'
import { count } from './message-commands.js'

export const statsUsage = `anymq stats <url> [queue | topic/subscription …] [--prefix p] [--watch] [--interval ms]
  Prints the depths (ready, in flight, dead-lettered, consumers, oldest message age) as a table.
  Without names: everything anymq made on the broker (needs an adapter that can list).
  --watch redraws the table every --interval ms (default 2000) until Ctrl-C.`

/** One table row per queue or subscription; `-` where the broker does not tell. */
export function statsTable(rows: readonly DestinationStats[]): string {
  const header = ['name', 'ready', 'in flight', 'dead', 'consumers', 'oldest']
  const cells = rows.map((row) => [
    row.name,
    String(row.ready),
    shown(row.inFlight),
    shown(row.deadLettered),
    shown(row.consumers),
    row.oldestAgeMs === undefined ? '-' : age(row.oldestAgeMs),
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => (cell[column] as string).length)))
  const render = (cell: string[]) =>
    cell.map((text, column) => (column === 0 ? text.padEnd(widths[column] ?? 0) : text.padStart(widths[column] ?? 0))).join('  ')
  return [render(header), ...cells.map(render)].join('\n')
}

/** The queues and named subscriptions to show: the ones named, or every one `mq.list()` finds. */
async function targets(mq: Anymq, names: string[], prefix: string | undefined): Promise<(() => Promise<DestinationStats>)[]> {
  if (names.length === 0) {
    const listed = await mq.list(prefix === undefined ? {} : { prefix })
    names = listed.filter((item) => item.kind !== 'topic').map((item) => (item.kind === 'subscription' ? `${item.topic}/${item.name}` : item.name))
  }
  return names.map((name) => {
    // Everything after the first '/' is the subscription's name: `a/b/c` must be refused as such, not read as `a/b`.
    const target = parseTarget(name)
    if (target.kind === 'subscription') return () => mq.topic(target.topic).stats(target.name)
    // A dead-letter queue has no dead-letter queue of its own.
    return () => mq.queue(name, name.endsWith('.dlq') ? { deadLetter: false } : {}).stats()
  })
}

export async function statsCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { watch: { type: 'boolean' }, interval: { type: 'string' }, prefix: { type: 'string' } },
  })
  const [url, ...names] = positionals
  if (url === undefined) throw new UsageError('anymq stats takes a broker URL, then optional queue or topic/subscription names')
  const intervalMs = count(values.interval, 2000, 'interval')
  const mq = await connectUrl(url, io)
  try {
    const readers = await targets(mq, names, values.prefix)
    for (;;) {
      const rows = await Promise.all(readers.map((read) => read()))
      if (values.watch) io.stdout.write('\x1b[2J\x1b[H')
      line(io.stdout, readers.length === 0 ? `nothing anymq made on ${mq.url}${values.prefix ? ` starting with ${values.prefix}` : ''}` : statsTable(rows))
      if (!values.watch || signal?.aborted) break
      line(io.stdout, `\n${mq.url} · every ${intervalMs} ms · ${new Date().toISOString()} · Ctrl-C to stop`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs)
        signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(timer)
            resolve()
          },
          { once: true },
        )
      })
      if (signal?.aborted) break
    }
  } finally {
    await mq.close()
  }
  return 0
}

function shown(value: number | undefined): string {
  return value === undefined ? '-' : String(value)
}

/** A message age as people read it: `850 ms`, `12.5 s`, `3.2 min`, `1.5 h`. */
export function age(ms: number): string {
  if (ms < 1000) return `${ms} ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`
  return `${(ms / 3_600_000).toFixed(1)} h`
}
