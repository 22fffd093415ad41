import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { runHarness } from './harness.js'
import type { BrokerReport } from './report.js'
import { poolCells, summarize } from './results.js'
import { workspaceRoot } from './targets.js'

/** One cell's committed figures: the client process's CPU time per message on each side. */
interface BaselineCell {
  anymqCpuMicros: number
  rawCpuMicros: number
  /** anymq ÷ raw throughput (or p99 latency) of that run: kept for the reader, not checked. */
  ratio: number
}

/** `bench/baseline.json`: what `pnpm bench:check` compares a run against. */
interface Baseline {
  recorded: string
  commit: string | undefined
  machine: string
  command: string
  /** How much a cell's anymq CPU µs/msg may grow before the check fails (0.15 = 15 %). */
  tolerance: number
  /** By `broker/cell-id`, e.g. `rabbitmq/e2e-c16-1024`. */
  cells: Record<string, BaselineCell>
}

const usage = `pnpm bench:check [--results bench/results/<date>.json] [--update] [--reps N]
  Runs the cells listed in bench/baseline.json (2 runs per side) and fails when a cell's anymq CPU µs/msg
  grew more than the baseline's tolerance (15 %). A cell over the line is measured 3 more times per side
  and judged on the median of all five before it is called a regression: CPU time per message is steadier
  than wall time on a busy machine, but not noise-free.
  --results  check existing runs instead of running one: one file, or several separated by commas, whose
             runs of each cell are pooled (two runs of --reps 2: medians of four runs per side)
  --update   write the run's figures as the new baseline (commit bench/baseline.json with the change that earned it)`

const baselinePath = join(workspaceRoot, 'bench', 'baseline.json')

/** By `broker/cell-id`; the runs of a cell that appears in several reports (several result files) are pooled. */
function figures(reports: BrokerReport[]): Map<string, BaselineCell> {
  const found = new Map<string, BaselineCell>()
  const cells = reports.flatMap((report) => report.cells.map((cell) => ({ ...cell, broker: report.broker })))
  for (const cell of poolCells(cells)) {
    if (cell.group === 'scaling' || cell.error || cell.anymq.length === 0 || cell.raw.length === 0) continue
    const summary = summarize(cell)
    const round = (value: number) => Math.round(value * 1000) / 1000
    found.set(`${cell.broker}/${cell.id}`, {
      anymqCpuMicros: round(summary.anymqCpuMicros),
      rawCpuMicros: round(summary.rawCpuMicros),
      ratio: round(summary.ratio),
    })
  }
  return found
}

async function measure(keys: string[], reps: number): Promise<BrokerReport[]> {
  const brokers = [...new Set(keys.map((key) => key.split('/')[0] as string))]
  const record = await runHarness({ mode: 'default', reps, brokers, workloads: [...new Set(keys.map((key) => key.split('/')[1] as string))] })
  for (const report of record.brokers) if (report.notRun) console.log(`${report.broker}: not run: ${report.notRun}`)
  return record.brokers
}

const percent = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %`

export async function check(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { results: { type: 'string' }, update: { type: 'boolean' }, reps: { type: 'string' }, help: { type: 'boolean' } },
  })
  if (values.help) {
    console.log(usage)
    return 0
  }
  const baseline: Baseline = existsSync(baselinePath)
    ? (JSON.parse(readFileSync(baselinePath, 'utf8')) as Baseline)
    : { recorded: '', commit: undefined, machine: '', command: 'pnpm bench:check --update', tolerance: 0.15, cells: {} }
  if (!values.update && Object.keys(baseline.cells).length === 0) throw new Error(`${baselinePath} lists no cells: record one with --update`)
  const keys = Object.keys(baseline.cells)
  if (keys.length === 0 && !values.results) throw new Error('no baseline yet: record one from a run with --results bench/results/<date>.json --update')
  const reps = values.reps ? Number(values.reps) : 2
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps takes a whole number ≥ 1, got ${values.reps}`)
  const runs = values.results
    ? values.results.split(',').flatMap((file) => (JSON.parse(readFileSync(file, 'utf8')) as { brokers: BrokerReport[] }).brokers)
    : await measure(keys, reps)
  const measured = figures(runs)
  if (values.update) {
    const cells: Record<string, BaselineCell> = {}
    for (const key of keys.length > 0 ? keys : [...measured.keys()]) {
      const cell = measured.get(key)
      if (cell) cells[key] = cell
    }
    const source = values.results
      ? (JSON.parse(readFileSync(values.results.split(',')[0] as string, 'utf8')) as {
          date: string
          commit?: string
          machine: { cpus: number; model: string; node: string }
        })
      : undefined
    const machine = source ? `${source.machine.cpus} cores (${source.machine.model}), Node ${source.machine.node}` : baseline.machine
    const recorded = { ...baseline, recorded: source?.date ?? new Date().toISOString(), commit: source?.commit ?? baseline.commit, machine, cells }
    writeFileSync(baselinePath, `${JSON.stringify(recorded, null, 2)}\n`)
    console.log(`wrote ${Object.keys(cells).length} cells to ${baselinePath}`)
    return 0
  }
  const over = (key: string, cell: BaselineCell | undefined) =>
    cell === undefined || cell.anymqCpuMicros > (baseline.cells[key]?.anymqCpuMicros ?? 0) * (1 + baseline.tolerance)
  const suspects = keys.filter((key) => over(key, measured.get(key)) && measured.has(key))
  if (suspects.length > 0 && !values.results) {
    console.log(`measuring again, 3 more runs per side: ${suspects.join(', ')}`)
    // Pooled with the first runs: the median of five, where one slow run of two put a cell over the line.
    const again = figures([...runs, ...(await measure(suspects, 3))])
    for (const key of suspects) {
      const cell = again.get(key)
      if (cell) measured.set(key, cell)
    }
  }
  let failed = 0
  console.log(`cell                                 baseline µs/msg   now µs/msg   change    raw change   (tolerance ${percent(baseline.tolerance)})`)
  for (const key of keys) {
    const before = baseline.cells[key] as BaselineCell
    const now = measured.get(key)
    if (!now) {
      failed++
      console.log(`${key.padEnd(36)} ${before.anymqCpuMicros.toFixed(2).padStart(15)}   not measured (broker or cell did not run)   FAIL`)
      continue
    }
    const change = now.anymqCpuMicros / before.anymqCpuMicros - 1
    const rawChange = now.rawCpuMicros / before.rawCpuMicros - 1
    const bad = over(key, now)
    if (bad) failed++
    console.log(
      `${key.padEnd(36)} ${before.anymqCpuMicros.toFixed(2).padStart(15)} ${now.anymqCpuMicros.toFixed(2).padStart(12)}   ${percent(change).padStart(8)}   ${percent(rawChange).padStart(10)}   ${bad ? 'FAIL' : 'ok'}`,
    )
  }
  // The raw side did not change: when it moved as much as anymq, the machine (or its load) differs.
  console.log(
    failed > 0
      ? `\n${failed} of ${keys.length} cells regressed or were not measured. If the raw column grew as much, the machine differs from the baseline's (${baseline.machine}); re-record with --update on that machine.`
      : `\nall ${keys.length} cells within ${percent(baseline.tolerance)} of the baseline (${baseline.recorded.slice(0, 10)}, commit ${baseline.commit ?? '?'}).`,
  )
  return failed > 0 ? 1 : 0
}

process.exitCode = await check(process.argv.slice(2))
