import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brokerUrl, uniqueName } from '@anymq/conformance'
import { afterAll, describe, expect, it } from 'vitest'

// Each adapter README's example (its first ```ts block), run as a user copies it, on that adapter's broker:
// a program of its own (Node runs it from the workspace's sources, as tsx would) that must print what its
// handlers print, nothing on stderr, and exit by itself after `mq.close()`. The only edits: the URL its
// `connect()` names becomes the test broker's, and every queue and topic name is made unique so that a rerun
// (or the root README's example, which makes 'orders' a classic queue on RabbitMQ) starts clean.

const root = join(import.meta.dirname, '..')

interface Example {
  folder: string
  url: string | undefined
  /** Lines the example's handlers print (in any order); what else it prints is not judged. */
  prints: string[]
}

const examples: Example[] = [
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

/** The example pointed at `ANYMQ_EXAMPLE_URL` (its first `connect()` argument replaced), with unique names. */
function asTestProgram(source: string): string {
  const pointed = source.replace(/connect\(([^,)]+)/, 'connect(process.env.ANYMQ_EXAMPLE_URL')
  const renamed = new Map<string, string>()
  const unique = (name: string) => renamed.get(name) ?? renamed.set(name, uniqueName(name.replace(/\W+/g, '-'))).get(name) ?? name
  return pointed.replace(/(\.(?:queue|topic)(?:<[^>]*>)?\(|deadLetter: )'([^']+)'/g, (_, call: string, name: string) => `${call}'${unique(name)}'`)
}

function run(file: string, url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--conditions=@anymq/source', '--import', 'tsx', file],
      { cwd: root, env: { ...process.env, ANYMQ_EXAMPLE_URL: url }, timeout: 90_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    )
  })
}

const directory = join(root, '.cache', `package-readme-examples-${process.pid}`)
afterAll(() => rmSync(directory, { recursive: true, force: true }))

describe.concurrent('each adapter README example', () => {
  for (const { folder, url, prints } of examples) {
    it.skipIf(!url)(
      `${folder}: connects, sends, consumes, closes, and exits by itself${url ? '' : ' (its broker URL is unset: run scripts/brokers.sh up)'}`,
      async () => {
        const source = exampleOf(folder)
        expect(source, `packages/${folder}/README.md has a ts block that connects`).toMatch(/connect\(/)
        const program = asTestProgram(source)
        expect(program).toContain('connect(process.env.ANYMQ_EXAMPLE_URL')
        expect(program).not.toMatch(/\.(?:queue|topic)(?:<[^>]*>)?\('orders'/)
        mkdirSync(directory, { recursive: true })
        const file = join(directory, `${folder}.ts`)
        writeFileSync(file, program)
        const result = await run(file, url as string)
        expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' })
        const lines = result.stdout.split('\n')
        for (const line of prints) expect(lines, `stdout of packages/${folder}/README.md's example`).toContain(line)
      },
    )
  }
})
