import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brokerUrl } from '@anymq/conformance'
import { afterAll, describe, expect, it } from 'vitest'
import { runProgram, withUniqueNames } from './example-program.js'

// Each adapter README's example (its first ```ts block), run as a user copies it, on that adapter's broker, and
// core's on memory:// (the outbox's and the testing package's have tests of their own, in their packages, the
// outbox's in a PostgreSQL schema of its own run): a program of its own inside that package
// (Node runs it from the workspace's sources, as tsx would) that must print what its handlers print, nothing on
// stderr, and exit by itself after `mq.close()`. The only edits: the URL its `connect()` names becomes the test
// broker's, and every queue and topic name is made unique so that a rerun (or the root README's example, which
// makes 'orders' a classic queue on RabbitMQ) starts clean.

const root = join(import.meta.dirname, '..')

interface Example {
  folder: string
  url: string | undefined
  /** Lines the example's handlers print (in any order); what else it prints is not judged. */
  prints: string[]
}

const examples: Example[] = [
  { folder: 'core', url: 'memory://', prints: ['invoice o-1', 'notify o-1', 'job 1 attempt 2', 'report r-1'] },
  { folder: 'adapter-memory', url: 'memory://', prints: ['hello attempt 1'] },
  { folder: 'adapter-rabbitmq', url: brokerUrl('ANYMQ_RABBITMQ_URL'), prints: ['order o-1 attempt 1', 'order o-2 attempt 1', 'invoice o-1'] },
  { folder: 'adapter-kafka', url: brokerUrl('ANYMQ_KAFKA_URL'), prints: ["customer-7 { id: 'o-1', total: 42 } attempt 1", "invoice { id: 'o-1' }"] },
  { folder: 'adapter-redis', url: brokerUrl('ANYMQ_REDIS_URL'), prints: ['o-1 attempt 1', "invoice { orderId: 'o-1' }"] },
  { folder: 'adapter-nats', url: brokerUrl('ANYMQ_NATS_URL'), prints: ['o-1 attempt 1', 'o-2 attempt 1', "invoice { orderId: 'o-1' }"] },
  { folder: 'adapter-aws', url: brokerUrl('ANYMQ_SQS_URL'), prints: ['order o-1 attempt 1', 'billing saw created'] },
  { folder: 'adapter-kinesis', url: brokerUrl('ANYMQ_KINESIS_URL'), prints: ['order o-1 attempt 1', 'billing saw created'] },
  { folder: 'adapter-gcp-pubsub', url: brokerUrl('ANYMQ_PUBSUB_URL'), prints: ['o-1 attempt 1', "invoice { orderId: 'o-1' }"] },
]

/** The README's first TypeScript block. */
function exampleOf(folder: string): string {
  const readme = readFileSync(join(root, 'packages', folder, 'README.md'), 'utf8')
  return readme.match(/```ts\n([\s\S]*?)```/)?.[1] ?? ''
}

/** The example pointed at `ANYMQ_EXAMPLE_URL` (its first `connect()` argument replaced), with unique names, and the names it replaced. */
function asTestProgram(source: string): { program: string; replaced: string[] } {
  return withUniqueNames(source.replace(/connect\(([^,)]+)/, 'connect(process.env.ANYMQ_EXAMPLE_URL'))
}

/** Each program is written inside its package, so that its imports resolve as a user's who installed that package do. */
const written: string[] = []
afterAll(() => {
  for (const file of written) rmSync(file, { force: true })
})

describe.concurrent('each package README example', () => {
  for (const { folder, url, prints } of examples) {
    it.skipIf(!url)(
      `${folder}: connects, sends, consumes, closes, and exits by itself${url ? '' : ' (its broker URL is unset: run scripts/brokers.sh up)'}`,
      async () => {
        const source = exampleOf(folder)
        expect(source, `packages/${folder}/README.md has a ts block that connects`).toMatch(/connect\(/)
        const { program, replaced } = asTestProgram(source)
        expect(program).toContain('connect(process.env.ANYMQ_EXAMPLE_URL')
        expect(replaced.length, 'queue and topic names found to make unique').toBeGreaterThan(0)
        // A call the pattern did not see would still use the old name, and miss what the renamed ones send.
        const code = program.replace(/(^|\s)\/\/.*$/gm, '$1') // comments may name them (a URL's `://` is no comment)
        for (const name of replaced) expect(code, `'${name}' left somewhere in the example`).not.toContain(`'${name}'`)
        const directory = join(root, 'packages', folder, '.cache')
        mkdirSync(directory, { recursive: true })
        const file = join(directory, `readme-example-${process.pid}.ts`)
        writeFileSync(file, program)
        written.push(file)
        const result = await runProgram(file, { cwd: root, env: { ANYMQ_EXAMPLE_URL: url }, timeoutMs: 90_000 })
        expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' })
        const lines = result.stdout.split('\n')
        for (const line of prints) expect(lines, `stdout of packages/${folder}/README.md's example`).toContain(line)
      },
    )
  }
})
