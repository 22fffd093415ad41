import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

interface Lane {
  name: string
  files: string[]
  brokers: Set<string>
  restarts: Set<string>
}
interface LanePlan {
  brokersOf(files: string[]): { brokers: Set<string>; restarts: Set<string> }
  clash(one: Lane, other: Lane): boolean
  planLanes(root: string): { lanes: Lane[]; leftOut: string[] }
}

const root = join(import.meta.dirname, '..')
// A plain script of `pnpm test` (no types of its own), loaded by path.
const planModule = join(root, 'scripts', 'test-lane-plan.mjs')
const { brokersOf, clash, planLanes } = (await import(planModule)) as LanePlan

const workspace = mkdtempSync(join(tmpdir(), 'anymq-lane-plan-'))
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

function write(path: string, text: string): string {
  const file = join(workspace, path)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, text)
  return file
}

// Fixture sources are assembled, so that to the lane plan (which reads this file too) this file
// holds no conformance suite and restarts no broker.
const suiteCall = ['describe', 'Conformance('].join('')
const brokersScript = (...words: string[]) => `run(script, [${words.join(', ')}])`

const laneNamed = (lanes: Lane[], name: string) => {
  const lane = lanes.find((candidate) => candidate.name === name)
  if (!lane) throw new Error(`no lane ${name} in ${lanes.map((candidate) => candidate.name).join(', ')}`)
  return lane
}

describe('test lanes: which brokers a file uses and restarts', () => {
  it('reads the brokers a file restarts from its calls of the brokers script, through the local helpers it imports', () => {
    write('a/broker.ts', `export const restartNats = () => ${brokersScript("'restart'", "'nats'")}\n`)
    const suite = write('a/conformance.test.ts', "import { restartNats } from './broker.js'\nconst url = process.env.ANYMQ_NATS_URL\n")
    const kill = write('a/elasticmq.test.ts', `const url = brokerUrl('ANYMQ_ELASTICMQ_URL')\n${brokersScript("'restart'", "'--kill'", "'elasticmq'")}\n`)
    const kinesis = write('a/kinesis.test.ts', "const url = brokerUrl('ANYMQ_KINESIS_URL')\n")
    expect(brokersOf([suite])).toEqual({ brokers: new Set(['NATS']), restarts: new Set(['NATS']) })
    expect(brokersOf([kill])).toEqual({ brokers: new Set(['ELASTICMQ']), restarts: new Set(['ELASTICMQ']) })
    // moto serves Kinesis too: one broker, SQS; using it is not restarting it.
    expect(brokersOf([kinesis])).toEqual({ brokers: new Set(['SQS']), restarts: new Set() })
  })

  it('counts a restart whose broker is not written out as a restart of every broker, and a moto restart (either quote) as one of SQS', () => {
    const sweep = write('b/sweep.test.ts', `const url = process.env.ANYMQ_REDIS_URL\n${brokersScript("'restart'", "'--kill'", 'target.broker')}\n`)
    const moto = write('b/moto.test.ts', `const url = process.env.ANYMQ_SQS_URL\n${brokersScript('"restart"', '"moto"')}\n`)
    expect(brokersOf([sweep]).restarts).toEqual(new Set(['*']))
    expect(brokersOf([moto]).restarts).toEqual(new Set(['SQS']))
  })
})

describe('test lanes: which lanes may overlap', () => {
  const lane = (name: string, brokers: string[], restarts: string[] = []): Lane => ({ name, files: [], brokers: new Set(brokers), restarts: new Set(restarts) })

  it('keeps apart two lanes only when one restarts a broker the other uses', () => {
    expect(clash(lane('aws', ['SQS']), lane('kinesis', ['SQS']))).toBe(false)
    expect(clash(lane('aws', ['SQS', 'ELASTICMQ'], ['ELASTICMQ']), lane('kinesis', ['SQS']))).toBe(false)
    expect(clash(lane('aws', ['SQS'], ['SQS']), lane('kinesis', ['SQS']))).toBe(true)
    expect(clash(lane('cli', ['SQS', 'RABBITMQ']), lane('rabbitmq', ['RABBITMQ'], ['RABBITMQ']))).toBe(true)
    expect(clash(lane('root', ['*'], ['*']), lane('kinesis', ['SQS']))).toBe(true)
    expect(clash(lane('root', ['*'], ['*']), lane('unit', []))).toBe(false)
  })

  it('gives a conformance file a lane of its own only when it shares no restarted broker with the rest of its folder', () => {
    const base = join(workspace, 'split')
    const at = (path: string, text: string) => write(relative(workspace, join(base, path)), text)
    at('packages/adapter-q/test/broker.ts', `export const restart = () => ${brokersScript("'restart'", "'rabbitmq'")}\n`)
    at('packages/adapter-q/test/conformance.test.ts', `import { restart } from './broker.js'\n${suiteCall}{ url: process.env.ANYMQ_RABBITMQ_URL })\n`)
    at('packages/adapter-q/test/other.test.ts', 'const url = process.env.ANYMQ_RABBITMQ_URL\n')
    at('packages/adapter-s/test/conformance.test.ts', `${suiteCall}{ url: process.env.ANYMQ_SQS_URL })\n`)
    at('packages/adapter-s/test/elasticmq.test.ts', `const url = process.env.ANYMQ_ELASTICMQ_URL\n${brokersScript("'restart'", "'--kill'", "'elasticmq'")}\n`)
    at('packages/adapter-s/test/other.test.ts', 'const url = process.env.ANYMQ_SQS_URL\n')
    const { lanes } = planLanes(base)
    expect(lanes.map((candidate) => candidate.name).sort()).toEqual(['packages/adapter-q', 'packages/adapter-s', 'packages/adapter-s (conformance)'])
    expect(laneNamed(lanes, 'packages/adapter-q').restarts).toEqual(new Set(['RABBITMQ']))
    expect(laneNamed(lanes, 'packages/adapter-s')).toMatchObject({ brokers: new Set(['SQS', 'ELASTICMQ']), restarts: new Set(['ELASTICMQ']) })
    expect(clash(laneNamed(lanes, 'packages/adapter-s (conformance)'), laneNamed(lanes, 'packages/adapter-s'))).toBe(false)
  })

  it('runs the aws conformance files beside each other and beside the other moto lanes, which no `pnpm test` file restarts', () => {
    const { lanes } = planLanes(root)
    const moto = lanes.filter((candidate) => candidate.brokers.has('SQS'))
    for (const name of ['packages/adapter-aws (conformance)', 'packages/adapter-aws (conformance-eventbridge)', 'packages/adapter-aws (conformance-fifo)']) {
      expect(moto.map((candidate) => candidate.name)).toContain(name)
    }
    for (const one of moto) {
      for (const other of moto) expect(clash(one, other), `${one.name} beside ${other.name}`).toBe(false)
    }
    // A restarted broker still keeps its lanes apart.
    expect(laneNamed(lanes, 'packages/adapter-rabbitmq').restarts).toContain('RABBITMQ')
    expect(clash(laneNamed(lanes, 'packages/adapter-rabbitmq'), laneNamed(lanes, 'packages/cli'))).toBe(true)
  })

  it('runs the root test/ folder, which sweeps every broker and restarts one from a variable, beside no broker lane', () => {
    const { lanes } = planLanes(root)
    expect(laneNamed(lanes, 'test').restarts).toContain('*')
    expect(clash(laneNamed(lanes, 'test'), laneNamed(lanes, 'packages/adapter-aws (conformance)'))).toBe(true)
    expect(clash(laneNamed(lanes, 'test'), laneNamed(lanes, 'unit (no broker)'))).toBe(false)
  })
})
