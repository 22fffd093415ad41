import { execFileSync } from 'node:child_process'
import { cpus, loadavg, totalmem } from 'node:os'
import { newRunId, ProgressBar } from '@anymq/cli'
import { type BenchClient, NotRunnable } from './bench-client.js'
import { anymqWarnings } from './clients/anymq-client.js'
import { type Cell, cellsFor, type Mode } from './matrix.js'
import type { BrokerReport } from './report.js'
import type { CellResult } from './results.js'
import { allTargets, workspaceRoot } from './targets.js'
import type { Measurement } from './workloads.js'

export interface HarnessOptions {
  mode: Mode
  brokers: string[] | undefined
  /** Cell id prefixes to run (`e2e-c16`, `request-reply`…); all when undefined. */
  workloads: string[] | undefined
  /** Runs per side per cell, alternating anymq and raw (A B A B). */
  reps: number
  /** Called after each broker with the reports so far (the caller saves them, so a stopped run keeps them). */
  onBrokerDone?: (reports: BrokerReport[]) => void
}

export interface RunRecord {
  date: string
  mode: Mode
  reps: number
  machine: { cpus: number; model: string; memoryBytes: number; node: string; platform: string }
  commit: string | undefined
  loadBefore: number[]
  loadAfter: number[]
  durationSeconds: number
  brokers: BrokerReport[]
  warnings: string[]
}

const gc = (globalThis as { gc?: () => void }).gc

function memoryAfterCollection(): { rssBytes: number; liveBytes: number } {
  gc?.()
  gc?.()
  const usage = process.memoryUsage()
  return { rssBytes: usage.rss, liveBytes: usage.heapUsed + usage.external }
}

function deadlineFor(broker: string, cell: Cell): number {
  const perMessage =
    { memory: 0.2, rabbitmq: 3, kafka: 3, 'kafka-platformatic': 3, redis: 3, 'redis-node': 3, sqs: 50, 'sqs-eventbridge': 50, kinesis: 20 }[broker] ?? 5
  return Math.max(60_000, cell.messages * perMessage * (cell.bytes >= 65_536 ? 4 : 1))
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: workspaceRoot, encoding: 'utf8' }).trim()
  } catch {
    return undefined
  }
}

async function open(make: () => Promise<BenchClient>): Promise<BenchClient | string> {
  try {
    return await make()
  } catch (error) {
    return error instanceof NotRunnable ? error.message : `cannot connect: ${(error as Error).message.split('\n')[0]}`
  }
}

/**
 * Runs every selected broker: for each cell, `reps` runs per side alternating anymq and raw, each on a
 * fresh queue deleted afterwards. A broker or side that cannot run is reported as "not run: <why>".
 */
export async function runHarness(options: HarnessOptions, progress = new ProgressBar(process.stderr, { plainLines: true })): Promise<RunRecord> {
  const started = Date.now()
  const loadBefore = loadavg()
  // A client's stray rejection (a poller outliving its queue) is recorded, not allowed to end the whole run.
  const stray = (error: unknown) => anymqWarnings.push(`unhandled rejection: ${(error as Error)?.message ?? String(error)}`)
  process.on('unhandledRejection', stray)
  const runId = newRunId()
  // `--brokers redis` also runs `redis-node` (a broker's other client library), as `kafka` does `kafka-platformatic`.
  const targets = allTargets().filter((target) =>
    target.onlyWhenNamed
      ? options.brokers?.includes(target.name) === true
      : !options.brokers || options.brokers.some((name) => target.name === name || target.name.startsWith(`${name}-`)),
  )
  const plan = targets.map((target) => ({
    target,
    cells: cellsFor(target.name, options.mode).filter((cell) => !options.workloads || options.workloads.some((prefix) => cell.id.startsWith(prefix))),
  }))
  const totalRuns = plan.reduce((sum, { cells }) => sum + cells.reduce((count, cell) => count + 2 * (cell.reps ?? options.reps), 0), 0)
  let runsDone = 0
  let queueNumber = 0
  const reports: BrokerReport[] = []
  for (const { target, cells } of plan) {
    const report: BrokerReport = { broker: target.name, cells: [] }
    reports.push(report)
    const skip = (reason: string) => {
      report.notRun = reason
      runsDone += cells.reduce((count, cell) => count + 2 * (cell.reps ?? options.reps), 0)
    }
    if (target.urlVariable && !target.url) {
      skip(`${target.urlVariable} is not set (run scripts/brokers.sh up and eval "$(scripts/brokers.sh env)")`)
      continue
    }
    const raw = await open(() => target.raw())
    const anymq = await open(() => target.anymq())
    if (typeof raw === 'string' || typeof anymq === 'string') {
      const reasons = [typeof anymq === 'string' ? `anymq side: ${anymq}` : '', typeof raw === 'string' ? `raw side: ${raw}` : ''].filter(Boolean)
      skip(reasons.join('; '))
      if (typeof raw !== 'string') await raw.close().catch(() => {})
      if (typeof anymq !== 'string') await anymq.close().catch(() => {})
      continue
    }
    report.anymqDescription = anymq.description
    report.rawDescription = raw.description
    const marker = `anymqbench-${runId}`
    try {
      await target.cleanup('anymqbench-').catch(() => {})
      for (const cell of cells) {
        const result: CellResult = {
          broker: target.name,
          id: cell.id,
          group: cell.group,
          label: cell.label,
          bytes: cell.bytes,
          messages: cell.messages,
          measures: cell.measures,
          anymq: [],
          raw: [],
        }
        report.cells.push(result)
        const reps = cell.reps ?? options.reps
        if (cell.notRun) {
          result.notRun = cell.notRun
          runsDone += 2 * reps
          continue
        }
        // Each side first runs a tenth of the cell untimed: the first run in a process pays for compiling
        // the code it reaches, and the two sides share a client library (its first run was 2-3× slower
        // than a warm one), so without it the side that ran first paid for both.
        for (const client of [anymq, raw]) {
          const queue = `${marker}-q${String(queueNumber++).padStart(4, '0')}`
          progress.update(runsDone, totalRuns, `${target.name} · ${cell.label} · ${client.side} warm-up`, true)
          const deadlineMs = deadlineFor(target.name, cell)
          let hung: NodeJS.Timeout | undefined
          try {
            await Promise.race([
              cell.run({ client, queue, run: `${runId}-${queueNumber}`, bytes: cell.bytes, deadlineMs, warmup: true, onProgress: () => {} }),
              new Promise<never>((_, reject) => {
                hung = setTimeout(() => reject(new Error('warm-up abandoned')), deadlineMs + 60_000)
              }),
            ])
          } catch {
            // A failing warm-up says nothing the timed runs will not say themselves.
          } finally {
            clearTimeout(hung)
            await client.discard?.(queue).catch(() => {})
            if (target.cleanupAfterEachRun !== false) await target.cleanup(queue).catch(() => {})
          }
        }
        for (let rep = 0; rep < reps && !result.error; rep++) {
          // A B B A: a process keeps warming up over a cell's runs (run 1 cost more CPU per message than
          // run 2 in 60 % of the day's cells, both sides), so the side that always went first paid for it.
          for (const client of rep % 2 === 0 ? [anymq, raw] : [raw, anymq]) {
            const queue = `${marker}-q${String(queueNumber++).padStart(4, '0')}`
            const label = `${target.name} · ${cell.label} · ${cell.bytes >= 1024 ? `${cell.bytes / 1024} KB` : `${cell.bytes} B`} · ${client.side} #${rep + 1}`
            progress.update(runsDone, totalRuns, label, true)
            let measurement: Measurement
            const deadlineMs = deadlineFor(target.name, cell)
            let hung: NodeJS.Timeout | undefined
            try {
              // The workload stops itself at its deadline; this only guards against a close that never returns.
              measurement = await Promise.race([
                cell.run({
                  client,
                  queue,
                  run: `${runId}-${queueNumber}`,
                  bytes: cell.bytes,
                  deadlineMs,
                  onProgress: (done) => progress.update(runsDone + done / cell.messages, totalRuns, `${label} ${done}/${cell.messages}`),
                }),
                new Promise<never>((_, reject) => {
                  hung = setTimeout(() => reject(new Error(`still running ${(deadlineMs + 60_000) / 1000} s after it started; abandoned`)), deadlineMs + 60_000)
                }),
              ])
            } catch (error) {
              result.error = `${client.side}: ${(error as Error).message.split('\n')[0]}`
              break
            } finally {
              clearTimeout(hung)
              await client.discard?.(queue).catch(() => {})
              if (target.cleanupAfterEachRun !== false) await target.cleanup(queue).catch(() => {})
            }
            if (cell.rss) Object.assign(measurement, memoryAfterCollection())
            result[client.side].push(measurement)
            runsDone++
          }
        }
        if (result.error) runsDone += 2 * reps - result.anymq.length - result.raw.length
      }
    } finally {
      progress.clear()
      await anymq.close().catch(() => {})
      await raw.close().catch(() => {})
      await target.cleanup(marker).catch(() => {})
    }
    options.onBrokerDone?.(reports)
  }
  progress.clear()
  process.off('unhandledRejection', stray)
  const cpu = cpus()
  return {
    date: new Date(started).toISOString(),
    mode: options.mode,
    reps: options.reps,
    machine: {
      cpus: cpu.length,
      model: cpu[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    commit: gitCommit(),
    loadBefore,
    loadAfter: loadavg(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    brokers: reports,
    warnings: [...new Set(anymqWarnings)].slice(0, 50),
  }
}
