import { formatBytes, formatCount, formatMilliseconds } from '@anymq/cli'
import { type CellResult, summarize } from './results.js'

export interface BrokerReport {
  broker: string
  /** Set when the whole broker (or one side) did not run: "not run: <why>". */
  notRun?: string
  anymqDescription?: string
  rawDescription?: string
  cells: CellResult[]
}

const ratioText = (ratio: number, measures: string) => (Number.isFinite(ratio) ? `${ratio.toFixed(2)}${measures === 'latency' ? ' (p99)' : ''}` : '–')
const latencyText = (latency: { p50: number; p95: number; p99: number } | undefined, withP95: boolean) =>
  latency
    ? withP95
      ? `${formatMilliseconds(latency.p50)} / ${formatMilliseconds(latency.p95)} / ${formatMilliseconds(latency.p99)} ms`
      : `${formatMilliseconds(latency.p50)} / ${formatMilliseconds(latency.p99)} ms`
    : '–'
const megabytes = (bytes: number | undefined) => (bytes === undefined ? '' : `${(bytes / 1_048_576).toFixed(0)} MB`)

/** Rows of one broker's table: the same cells for the terminal and for Markdown. */
export function rows(report: BrokerReport): string[][] {
  return report.cells.map((cell) => {
    if (cell.notRun) return [cell.label, formatBytes(cell.bytes), String(cell.messages), '–', '–', '–', '–', `not run: ${cell.notRun}`]
    const summary = summarize(cell)
    const isLatency = cell.measures === 'latency'
    const withP95 = cell.group === 'latency'
    const anymq = isLatency ? latencyText(summary.anymqLatency, withP95) : `${formatCount(summary.anymqRate)}`
    const raw = isLatency ? latencyText(summary.rawLatency, withP95) : `${formatCount(summary.rawRate)}`
    const notes: string[] = []
    if (cell.error) notes.push(`error: ${cell.error}`)
    else if (!summary.complete) notes.push('incomplete (timed out or lost messages: see JSON)')
    // Per side: a repeat of the raw client is no repeat of anymq's (the lead's 13:40 run counted raw's 66 as the cell's).
    for (const side of ['anymq', 'raw'] as const) {
      const duplicates = cell[side].reduce((sum, run) => sum + run.duplicates, 0)
      if (duplicates > 0) notes.push(`${side}: ${duplicates} duplicates`)
    }
    if (summary.anymqRss !== undefined)
      notes.push(
        `after GC: live anymq ${megabytes(summary.anymqLive)} / raw ${megabytes(summary.rawLive)}, RSS ${megabytes(summary.anymqRss)} / ${megabytes(summary.rawRss)}`,
      )
    return [
      cell.label,
      formatBytes(cell.bytes),
      String(cell.messages),
      anymq,
      raw,
      ratioText(summary.ratio, cell.measures),
      `${summary.anymqCpuMicros.toFixed(1)} / ${summary.rawCpuMicros.toFixed(1)}`,
      notes.join('; '),
    ]
  })
}

export const header = ['workload', 'body', 'messages', 'anymq (msg/s or p50/p95/p99)', 'raw', 'anymq/raw', 'CPU µs/msg anymq / raw', 'notes']

/** A plain-text table with aligned columns. */
export function textTable(head: string[], body: string[][]): string {
  const widths = head.map((title, column) => Math.max(title.length, ...body.map((row) => (row[column] ?? '').length)))
  const render = (row: string[]) =>
    row
      .map((value, column) => (column >= 2 && column <= 6 ? value.padStart(widths[column] ?? 0) : value.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd()
  return [render(head), widths.map((width) => '─'.repeat(width)).join('  '), ...body.map(render)].join('\n')
}

export function markdownTable(head: string[], body: string[][]): string {
  const escapeCell = (value: string) => value.replaceAll('|', '\\|')
  return [
    `| ${head.map(escapeCell).join(' | ')} |`,
    `| ${head.map((_, column) => (column >= 2 && column <= 6 ? '---:' : '---')).join(' | ')} |`,
    ...body.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
  ].join('\n')
}

export function terminalReport(reports: BrokerReport[]): string {
  const parts: string[] = []
  for (const report of reports) {
    parts.push('')
    if (report.notRun && report.cells.length === 0) {
      parts.push(`${report.broker}: not run: ${report.notRun}`)
      continue
    }
    parts.push(`${report.broker}`)
    if (report.anymqDescription) parts.push(`  anymq: ${report.anymqDescription}`)
    if (report.rawDescription) parts.push(`  raw:   ${report.rawDescription}`)
    if (report.notRun) parts.push(`  not run: ${report.notRun}`)
    parts.push(textTable(header, rows(report)))
  }
  return parts.join('\n')
}

export function markdownReport(reports: BrokerReport[]): string {
  const parts: string[] = []
  for (const report of reports) {
    if (report.notRun && report.cells.length === 0) {
      parts.push(`**${report.broker}**: not run: ${report.notRun}`, '')
      continue
    }
    parts.push(`**${report.broker}** — anymq: ${report.anymqDescription ?? '–'}; raw: ${report.rawDescription ?? '–'}`, '')
    if (report.notRun) parts.push(`not run: ${report.notRun}`, '')
    parts.push(markdownTable(header, rows(report)), '')
  }
  return parts.join('\n')
}
