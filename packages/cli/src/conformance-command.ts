import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type ConformanceGroup, conformanceGroups } from '@anymq/conformance/groups'
import { capabilityReport } from './capability-report.js'
import { type CliIo, line, UsageError } from './cli-io.js'
import type { ConformanceSettings } from './conformance-settings.js'
import { connectUrl } from './connect-url.js'

export const conformanceUsage = `anymq conformance <url> [--groups a,b] [--restart-command <cmd>] [--junit <file>] [--time-scale <x>] [--volume <n>]
  Runs anymq's conformance suite against your broker: prints its capability report and a pass/fail
  table per group, exits 1 on any failure. Features the adapter does not declare must be refused.
  The recovery group (broker restart) runs only with --restart-command, a shell command that restarts
  the broker keeping its data and returns once it accepts connections again.
  Groups: ${conformanceGroups.join(', ')}.`

interface CaseResult {
  group: string
  name: string
  state: 'passed' | 'failed' | 'skipped' | 'pending'
  error: string | undefined
}

/** Collects each case's outcome by group, for the table; vitest's own reporters print nothing. */
class ResultCollector {
  readonly cases: CaseResult[] = []
  readonly moduleErrors: string[] = []

  onTestCaseResult(testCase: {
    fullName: string
    name: string
    parent: { type: string; name?: string }
    result(): { state: CaseResult['state']; errors?: readonly { message: string }[] }
  }): void {
    const result = testCase.result()
    this.cases.push({
      group: testCase.parent.type === 'suite' ? (testCase.parent.name ?? '') : '',
      name: testCase.name,
      state: result.state,
      error: result.errors?.[0]?.message.split('\n')[0],
    })
  }

  onTestModuleEnd(testModule: { errors(): readonly { message: string }[] }): void {
    for (const error of testModule.errors()) this.moduleErrors.push(error.message.split('\n')[0] ?? '')
  }
}

export async function conformanceCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      groups: { type: 'string' },
      'restart-command': { type: 'string' },
      junit: { type: 'string' },
      'time-scale': { type: 'string' },
      volume: { type: 'string' },
    },
  })
  const [url] = positionals
  if (url === undefined || positionals.length > 1) throw new UsageError('anymq conformance takes one broker URL')
  const groups = chosenGroups(values.groups, values['restart-command'] !== undefined)
  const timeScale = values['time-scale'] === undefined ? 1 : Number(values['time-scale'])
  if (!(timeScale > 0)) throw new UsageError(`--time-scale takes a number > 0, got ${JSON.stringify(values['time-scale'])}`)
  const volume = values.volume === undefined ? undefined : Number(values.volume)
  if (volume !== undefined && !(Number.isInteger(volume) && volume >= 1))
    throw new UsageError(`--volume takes a whole number ≥ 1, got ${JSON.stringify(values.volume)}`)

  const mq = await connectUrl(url, io)
  await mq.close()
  line(io.stdout, `anymq conformance ${mq.url} (adapter ${mq.adapter})`)
  line(io.stdout)
  line(io.stdout, 'capabilities:')
  for (const text of capabilityReport(mq.capabilities)) line(io.stdout, text)
  line(io.stdout)
  if (!groups.includes('recovery')) line(io.stdout, 'recovery group not run: give --restart-command to prove no loss across a broker restart')

  const settings: ConformanceSettings = { url, groups, restartCommand: values['restart-command'], timeScale, volume }
  const collector = new ResultCollector()
  const suite = suiteFile()
  const { startVitest } = await import('vitest/node')
  process.env.ANYMQ_CONFORMANCE_SETTINGS = JSON.stringify(settings)
  const previousExitCode = process.exitCode
  try {
    const vitest = await startVitest(
      'test',
      [],
      {
        watch: false,
        config: false,
        root: dirname(suite),
        include: [suite],
        testTimeout: 120_000 * timeScale,
        hookTimeout: 60_000 * timeScale,
        // One file: its cases run one after another, as in the adapters' own suites.
        fileParallelism: false,
        reporters: [collector as never, ...(values.junit === undefined ? [] : [['junit', { outputFile: resolve(values.junit) }] as never])],
      },
      suite.endsWith('.ts') ? { resolve: { conditions: ['@anymq/source'] }, ssr: { resolve: { conditions: ['@anymq/source'] } } } : {},
    )
    await vitest.close()
  } finally {
    delete process.env.ANYMQ_CONFORMANCE_SETTINGS
    process.exitCode = previousExitCode
  }
  line(io.stdout, resultTable(collector.cases))
  for (const failure of collector.cases.filter((result) => result.state === 'failed'))
    line(io.stdout, `FAIL ${failure.group} › ${failure.name}\n     ${failure.error ?? ''}`)
  for (const error of collector.moduleErrors) line(io.stdout, `ERROR ${error}`)
  if (values.junit !== undefined) line(io.stdout, `JUnit XML written to ${resolve(values.junit)}`)
  const failed = collector.cases.filter((result) => result.state === 'failed').length + collector.moduleErrors.length
  const passed = collector.cases.filter((result) => result.state === 'passed').length
  line(io.stdout, failed === 0 && passed > 0 ? `conformance: PASS (${passed} cases)` : `conformance: FAIL (${failed} failed, ${passed} passed)`)
  return failed === 0 && passed > 0 ? 0 : 1
}

/** The groups to run: all (or the ones asked for); recovery only when there is a way to restart the broker. */
function chosenGroups(asked: string | undefined, canRestart: boolean): ConformanceGroup[] {
  const names = asked === undefined ? conformanceGroups : asked.split(',').map((name) => name.trim())
  const unknown = names.filter((name) => !(conformanceGroups as string[]).includes(name))
  if (unknown.length > 0) throw new UsageError(`--groups: unknown ${unknown.join(', ')}; the groups are ${conformanceGroups.join(', ')}`)
  if (asked?.includes('recovery') && !canRestart) throw new UsageError('--groups recovery needs --restart-command')
  return (names as ConformanceGroup[]).filter((name) => name !== 'recovery' || canRestart)
}

function resultTable(cases: readonly CaseResult[]): string {
  const groups = [...new Set(cases.map((result) => result.group))]
  const rows = groups.map((group) => {
    const of = cases.filter((result) => result.group === group)
    const countOf = (state: CaseResult['state']) => String(of.filter((result) => result.state === state).length)
    return [group, countOf('passed'), countOf('failed'), String(of.filter((result) => result.state === 'skipped' || result.state === 'pending').length)]
  })
  const header = ['group', 'passed', 'failed', 'skipped']
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)))
  const render = (row: string[]) => row.map((text, column) => (column === 0 ? text.padEnd(widths[column] ?? 0) : text.padStart(widths[column] ?? 0))).join('  ')
  return [render(header), ...rows.map(render)].join('\n')
}

/** The suite file beside this module: `.ts` when the CLI runs from source, `.js` from dist. */
function suiteFile(): string {
  const here = fileURLToPath(import.meta.url)
  return resolve(dirname(here), `conformance-suite${here.endsWith('.ts') ? '.ts' : '.js'}`)
}
