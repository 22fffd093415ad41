import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { brokerUrl } from '@anymq/conformance'
import { afterAll, describe, expect, it } from 'vitest'
import { runProgram, withUniqueNames } from './example-program.js'

// The root README's "## Example", run as a user copies it: a program of its own (Node runs it from the
// workspace's sources, as tsx would) that must print `30 []`, nothing on stderr, and exit by itself
// after `mq.close()`, once on every broker whose URL is set. scripts/packed-example.sh runs the same
// block on memory:// from the packed tarballs.

const root = join(import.meta.dirname, '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const example = readme.split('\n## Example\n')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1]

const brokers: [string, string | undefined][] = [
  ['memory', 'memory://'],
  ['rabbitmq', brokerUrl('ANYMQ_RABBITMQ_URL')],
  ['kafka', brokerUrl('ANYMQ_KAFKA_URL')],
  ['sqs (moto)', brokerUrl('ANYMQ_SQS_URL')],
  // Started only when named (scripts/brokers.sh up elasticmq), so never required.
  ['sqs (elasticmq)', process.env.ANYMQ_ELASTICMQ_URL],
  ['redis', brokerUrl('ANYMQ_REDIS_URL')],
  ['nats', brokerUrl('ANYMQ_NATS_URL')],
  ['gcp-pubsub', brokerUrl('ANYMQ_PUBSUB_URL')],
  ['kinesis', brokerUrl('ANYMQ_KINESIS_URL')],
]

const directory = join(root, '.cache', `readme-example-${process.pid}`)
afterAll(() => rmSync(directory, { recursive: true, force: true }))

describe.concurrent('the root README example', () => {
  it('is found under "## Example"', () => {
    expect(example).toContain("from '@anymq/core'")
    expect(withUniqueNames(example ?? '').program).not.toContain("'orders'")
  })

  for (const [name, url] of brokers) {
    it.skipIf(!url)(`prints "30 []" and exits by itself on ${name}${url ? '' : ' (its URL is unset: run scripts/brokers.sh up)'}`, async () => {
      mkdirSync(directory, { recursive: true })
      const file = join(directory, `${name.replace(/\W+/g, '-')}.ts`)
      writeFileSync(file, withUniqueNames(example ?? '').program)
      const result = await runProgram(file, { cwd: root, env: { ANYMQ_URL: url }, timeoutMs: 60_000 })
      expect(result).toEqual({ code: 0, stdout: '30 []\n', stderr: '' })
    })
  }
})
