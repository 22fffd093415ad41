import { median } from '@anymq/cli'
import type { Cell } from './matrix.js'
import type { Measurement } from './workloads.js'

/** Both sides of one cell, every repetition, and the medians the report shows. */
export interface CellResult {
  broker: string
  id: string
  group: string
  label: string
  bytes: number
  messages: number
  measures: Cell['measures']
  anymq: Measurement[]
  raw: Measurement[]
  /** Set when a side failed; the cell is reported with the reason. */
  error?: string
  /** Set when the workload makes no sense for the broker: no runs, reported as "not run: <why>". */
  notRun?: string
}

export interface Summary {
  anymqRate: number
  rawRate: number
  /** anymq ÷ raw throughput (higher is better for anymq), or anymq ÷ raw p99 latency (lower is better). */
  ratio: number
  anymqCpuMicros: number
  rawCpuMicros: number
  anymqLatency?: { p50: number; p95: number; p99: number }
  rawLatency?: { p50: number; p95: number; p99: number }
  anymqRss?: number
  rawRss?: number
  anymqLive?: number
  rawLive?: number
  complete: boolean
}

const latencyMedian = (runs: Measurement[]) => {
  const withLatency = runs.filter((run) => run.latency)
  if (withLatency.length === 0) return undefined
  return {
    p50: median(withLatency.map((run) => run.latency?.p50 ?? Number.NaN)),
    p95: median(withLatency.map((run) => run.latency?.p95 ?? Number.NaN)),
    p99: median(withLatency.map((run) => run.latency?.p99 ?? Number.NaN)),
  }
}

const cpuMicros = (runs: Measurement[]) => median(runs.map((run) => (run.cpuMs * 1000) / Math.max(1, run.completed)))

/**
 * One cell per broker and cell id out of the cells of several runs of the same command, each side's
 * repetitions pooled: two runs of `--reps 2` give medians of four runs per side, where one slow run
 * of two moved a cell by up to 0.4 (bench README, "Wave 21"). A cell that failed in any run keeps the
 * first error.
 */
export function poolCells(cells: Iterable<CellResult>): CellResult[] {
  const pooled = new Map<string, CellResult>()
  for (const cell of cells) {
    const key = `${cell.broker}/${cell.id}`
    const seen = pooled.get(key)
    if (seen === undefined) pooled.set(key, { ...cell, anymq: [...cell.anymq], raw: [...cell.raw] })
    else {
      seen.anymq.push(...cell.anymq)
      seen.raw.push(...cell.raw)
      seen.error ??= cell.error
    }
  }
  return [...pooled.values()]
}

/** Medians over the repetitions of each side, and the anymq/raw ratio. */
export function summarize(cell: CellResult): Summary {
  const anymqRate = median(cell.anymq.map((run) => run.rate))
  const rawRate = median(cell.raw.map((run) => run.rate))
  const anymqLatency = latencyMedian(cell.anymq)
  const rawLatency = latencyMedian(cell.raw)
  const ratio = cell.measures === 'latency' ? (anymqLatency?.p99 ?? Number.NaN) / (rawLatency?.p99 ?? Number.NaN) : anymqRate / rawRate
  const rss = (runs: Measurement[]) => (runs.some((run) => run.rssBytes !== undefined) ? median(runs.map((run) => run.rssBytes ?? Number.NaN)) : undefined)
  const live = (runs: Measurement[]) => (runs.some((run) => run.liveBytes !== undefined) ? median(runs.map((run) => run.liveBytes ?? Number.NaN)) : undefined)
  return {
    anymqRate,
    rawRate,
    ratio,
    anymqCpuMicros: cpuMicros(cell.anymq),
    rawCpuMicros: cpuMicros(cell.raw),
    anymqLatency,
    rawLatency,
    anymqRss: rss(cell.anymq),
    rawRss: rss(cell.raw),
    anymqLive: live(cell.anymq),
    rawLive: live(cell.raw),
    complete: !cell.error && [...cell.anymq, ...cell.raw].every((run) => !run.timedOut && run.completed === run.messages),
  }
}
