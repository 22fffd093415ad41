import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { throughputChart } from './chart.js'
import { runHarness } from './harness.js'
import type { Mode } from './matrix.js'
import { markdownReport, terminalReport } from './report.js'
import { workspaceRoot } from './targets.js'

const usage = `pnpm bench [--quick | --full] [--brokers memory,rabbitmq,kafka,sqs,redis] [--workloads e2e-c16,request-reply] [--reps N]
  default: every workload at 1 KB and 100 B, 64 KB batch + end-to-end, latency, request/reply, memory scaling to 1M; 2 runs per side
  --quick: a few 1 KB workloads, a quarter of the messages, 1 run per side
  --full:  every workload at 100 B, 1 KB and 64 KB, scaling to 1M on every broker that allows it, 3 runs per side`

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      full: { type: 'boolean' },
      brokers: { type: 'string' },
      workloads: { type: 'string' },
      reps: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  })
  if (values.help) {
    console.log(usage)
    return 0
  }
  const mode: Mode = values.full ? 'full' : values.quick ? 'quick' : 'default'
  const reps = values.reps ? Number(values.reps) : mode === 'full' ? 3 : mode === 'quick' ? 1 : 2
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps takes a whole number ≥ 1, got ${values.reps}`)
  const directory = values.out ?? join(workspaceRoot, 'bench', 'results')
  mkdirSync(directory, { recursive: true })
  const startedAt = new Date().toISOString().replaceAll(':', '-').slice(0, 19)
  const record = await runHarness({
    mode,
    reps,
    onBrokerDone: (brokers) => writeFileSync(join(directory, `${startedAt}.partial.json`), `${JSON.stringify({ mode, reps, brokers }, null, 2)}\n`),
    brokers: values.brokers?.split(',').map((name) => name.trim()),
    workloads: values.workloads?.split(',').map((name) => name.trim()),
  })
  const load = (numbers: number[]) => numbers.map((value) => value.toFixed(2)).join(' ')
  const subtitle = `${record.date.slice(0, 16).replace('T', ' ')} UTC · ${record.machine.cpus} cores (${record.machine.model}) · Node ${record.machine.node} · mode ${mode}, ${reps} run(s) per side, A B B A alternation, medians · load ${load(record.loadBefore)} → ${load(record.loadAfter)}`
  console.log(terminalReport(record.brokers))
  console.log(`\n${subtitle}\nanymq/raw: throughput ratio (≥ 1 is anymq faster), or p99 latency ratio for latency rows (≤ 1 is anymq faster).`)
  if (record.warnings.length > 0) console.log(`\nanymq logged:\n  ${record.warnings.join('\n  ')}`)
  rmSync(join(directory, `${startedAt}.partial.json`), { force: true })
  const stamp = record.date.replaceAll(':', '-').slice(0, 19)
  writeFileSync(join(directory, `${stamp}.json`), `${JSON.stringify(record, null, 2)}\n`)
  const markdown = `${markdownReport(record.brokers)}\n${subtitle}\n`
  const chart = throughputChart(record.brokers, subtitle)
  writeFileSync(join(directory, `${stamp}.md`), markdown)
  writeFileSync(join(directory, `${stamp}.svg`), chart)
  if (mode !== 'quick' && !values.brokers && !values.workloads) {
    writeFileSync(join(directory, 'latest.md'), markdown)
    writeFileSync(join(directory, 'latest.svg'), chart)
  }
  console.log(
    `\nwrote ${join(directory, `${stamp}.json`)}, .md and .svg${mode !== 'quick' && !values.brokers && !values.workloads ? ' (and latest.md, latest.svg)' : ''}`,
  )
  return 0
}
