import { brokerUrl } from '@anymq/conformance'
import { connect, silentLogger } from '@anymq/core'
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { leaseTableName, queueGroup, streamName } from '../src/kinesis-names.js'
import { spawnWorker } from './kinesis-worker-process.js'

const base = brokerUrl('ANYMQ_KINESIS_URL')
const leaseMs = 1500
const url = base && `${base}&leaseMs=${leaseMs}&pollMs=100&shards=2`

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The owner of every shard's lease of a queue's group, read straight from its DynamoDB table. */
async function owners(queue: string): Promise<Map<string, string | undefined>> {
  const endpoint = new URL(base as string).searchParams.get('endpoint') ?? undefined
  const dynamodb = new DynamoDBClient({ endpoint, region: 'us-east-1' })
  try {
    const table = await dynamodb.send(new ScanCommand({ TableName: leaseTableName(streamName(queue), queueGroup), ConsistentRead: true }))
    return new Map((table.Items ?? []).map((item) => [item.leaseKey?.S as string, item.leaseOwner?.S]))
  } finally {
    dynamodb.destroy()
  }
}

describe.skipIf(!url)(`kinesis shard leases${!url ? ' (ANYMQ_KINESIS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  const cleanups: (() => Promise<unknown>)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => {})
  })

  it("takes over a SIGKILLed worker's shards after the lease expires and delivers what it held", async () => {
    const queue = `leases-kill-${Date.now().toString(36)}`
    const doomed = spawnWorker(url as string, queue)
    cleanups.push(async () => doomed.process.kill('SIGKILL'))
    await waitFor('the child worker to be ready', () => doomed.output().includes('ready'), 60_000).catch((error) => {
      throw new Error(`${(error as Error).message}\n${doomed.output()}`)
    })
    const deadOwners = await owners(queue)
    // Alone in its group, the child holds both shards.
    expect(deadOwners.size).toBe(2)
    const childOwner = [...deadOwners.values()][0]
    expect(childOwner).toBeDefined()
    expect([...deadOwners.values()].every((owner) => owner === childOwner)).toBe(true)

    const mq = await connect(url as string, { adapter, logger: silentLogger })
    cleanups.push(() => mq.close())
    const bodies = Array.from({ length: 9 }, (_, index) => `m${index}`)
    // Nine keys over two shards: both shards get some.
    await mq.queue<string>(queue).sendBatch(bodies, (body) => ({ key: body }))
    await waitFor('the child to receive every record', () => bodies.every((body) => doomed.output().includes(`got ${body}\n`)), 30_000)
    doomed.process.kill('SIGKILL')
    await doomed.exited

    const seen: string[] = []
    const rescuer = mq.queue<string>(queue).consume(async (message) => {
      seen.push(message.body)
    })
    await rescuer.ready
    // Nothing the child held was acked: the rescuer gets all of it, from the shards' start.
    await waitFor('the rescuer to receive every record', () => bodies.every((body) => seen.includes(body)), 30_000)
    expect([...new Set(seen)].sort()).toEqual(bodies)
    const rescuerOwners = await owners(queue)
    expect([...rescuerOwners.values()].every((owner) => owner !== undefined && owner !== childOwner)).toBe(true)
    expect(new Set(rescuerOwners.values()).size).toBe(1)
  })

  // In `pnpm test:kinesis` (ANYMQ_KINESIS_FULL=1) only, to keep pnpm test within its time.
  it.runIf(process.env.ANYMQ_KINESIS_FULL === '1')('splits the shards between two workers of a group, each record to exactly one of them', async () => {
    const queue = `leases-split-${Date.now().toString(36)}`
    const [first, second] = [await connect(url as string, { adapter, logger: silentLogger }), await connect(url as string, { adapter, logger: silentLogger })]
    cleanups.push(
      () => first.close(),
      () => second.close(),
    )
    const byWorker: [string[], string[]] = [[], []]
    await first.queue<string>(queue).consume(async (message) => {
      byWorker[0].push(message.body)
    }).ready
    await second.queue<string>(queue).consume(async (message) => {
      byWorker[1].push(message.body)
    }).ready
    await waitFor(
      'each worker to hold one shard',
      async () => {
        const leaseOwners = [...(await owners(queue)).values()]
        return leaseOwners.length === 2 && leaseOwners.every((owner) => owner !== undefined) && new Set(leaseOwners).size === 2
      },
      leaseMs * 10,
    )
    const bodies = Array.from({ length: 21 }, (_, index) => `s${index}`)
    await first.queue<string>(queue).sendBatch(bodies)
    await waitFor('every record', () => byWorker[0].length + byWorker[1].length >= bodies.length, 30_000)
    expect([...byWorker[0], ...byWorker[1]].sort()).toEqual([...bodies].sort())
    // With ids as partition keys, 21 records over two shards land on both: both workers had work.
    expect(byWorker[0].length).toBeGreaterThan(0)
    expect(byWorker[1].length).toBeGreaterThan(0)
  })
})
