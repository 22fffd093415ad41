import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { brokerUrl, Collector, describeForeignMessages, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

/**
 * The other side is the AWS CLI (the one scripts/brokers.sh installs into its venv), with no anymq
 * in it: a record it puts must reach an anymq consumer, and a record anymq puts must be readable there.
 */
const url = brokerUrl('ANYMQ_KINESIS_URL')
const cli = process.env.ANYMQ_AWS_CLI ?? join(process.env.ANYMQ_CACHE_DIR ?? join(homedir(), '.cache', 'anymq'), 'venv', 'bin', 'aws')
const endpoint = url ? new URL(url).searchParams.get('endpoint') : null
const region = url ? new URL(url).hostname : 'us-east-1'

async function aws(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(cli, ['--region', region, ...(endpoint ? ['--endpoint-url', endpoint] : []), '--output', 'json', ...args], {
    timeout: 60_000,
    env: { ...process.env, AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test', AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' },
  })
  return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>)
}

describe.skipIf(!url || !existsSync(cli))('kinesis interop with the AWS CLI (needs ANYMQ_KINESIS_URL and the CLI from scripts/brokers.sh up sqs)', () => {
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
  })

  it('consumes a record put by `aws kinesis put-record` as a plain body, its partition key as the key', async () => {
    const mq = await connect(`${url}&pollMs=100`, { adapter })
    open.push(mq)
    const name = uniqueName('cli-in')
    const seen = new Collector<Uint8Array>()
    await mq.queue<Uint8Array>(name, { codec: 'raw' }).consume(seen.handler).ready
    // This CLI (the venv's) sends `--data` as the bytes given.
    await aws('kinesis', 'put-record', '--stream-name', name, '--partition-key', 'customer-7', '--data', 'hello from the cli')
    await seen.waitForCount(1, 30_000)
    expect(new TextDecoder().decode(seen.items[0]?.body)).toBe('hello from the cli')
    expect(seen.items[0]?.key).toBe('customer-7')
  })

  // Four CLI calls (a Python start each, ~10 s on a busy box): in `pnpm test:kinesis` only.
  it.runIf(process.env.ANYMQ_KINESIS_FULL === '1')('puts records `aws kinesis get-records` reads, keyed by the anymq key', async () => {
    const mq = await connect(url as string, { adapter })
    open.push(mq)
    const name = uniqueName('cli-out')
    await mq.queue<string>(name).send('to the cli', { key: 'k-1' })
    const shards = (await aws('kinesis', 'list-shards', '--stream-name', name)).Shards as { ShardId: string }[]
    const keys: string[] = []
    const bodies: string[] = []
    for (const shard of shards) {
      const iterator = (await aws('kinesis', 'get-shard-iterator', '--stream-name', name, '--shard-id', shard.ShardId, '--shard-iterator-type', 'TRIM_HORIZON'))
        .ShardIterator as string
      const records = (await aws('kinesis', 'get-records', '--shard-iterator', iterator)).Records as { PartitionKey: string; Data: string }[]
      for (const record of records) {
        keys.push(record.PartitionKey)
        bodies.push(Buffer.from(record.Data, 'base64').toString('utf8'))
      }
    }
    expect(keys).toEqual(['k-1'])
    // The envelope's JSON metadata comes first; the body, JSON-encoded by the default codec, last.
    expect(bodies[0]?.endsWith('"to the cli"')).toBe(true)
  })
})

describe.skipIf(!url || !existsSync(cli))(
  'kinesis foreign messages from the AWS CLI (needs ANYMQ_KINESIS_URL and the CLI from scripts/brokers.sh up sqs)',
  () => {
    describeForeignMessages({
      name: 'kinesis (aws kinesis put-records)',
      connect: () => connect(`${url}&pollMs=100`, { adapter }),
      timeScale: 2,
      // A record is data and a partition key: the foreign headers have nowhere to go.
      nativeHeaders: false,
      inject: async (queue, malformed, foreign) => {
        // One CLI call (a Python start) for both records; one partition key keeps them in order.
        const records = [malformed.body, foreign.body].map((data) => ({ Data: data, PartitionKey: 'foreign' }))
        const result = await aws('kinesis', 'put-records', '--stream-name', queue, '--records', JSON.stringify(records))
        expect(result.FailedRecordCount).toBe(0)
      },
    })
  },
)
