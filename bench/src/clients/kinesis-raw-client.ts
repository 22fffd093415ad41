import { randomUUID } from 'node:crypto'
import type { BenchBody } from '@anymq/cli'
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, ListTablesCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import {
  type _Record,
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import type { BenchClient, Running } from '../bench-client.js'
import { putRefusedAgain, splitAtLimits } from './aws-batch-calls.js'

/** The adapter's defaults, so both sides read the same shards with the same idle wait. */
const shardCount = 2
const defaultPollMs = 1000
/** PutRecords' limits: 500 records and 5 MiB per call. */
const maxBatchRecords = 500
const maxBatchBytes = 5 * 1024 * 1024
const maxPutAttempts = 8

const encode = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value))
const decode = <T>(data: Uint8Array | undefined): T => JSON.parse(Buffer.from(data ?? []).toString('utf8')) as T
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Clients {
  kinesis: KinesisClient
  dynamodb: DynamoDBClient
  pollMs: number
}

/** `kinesis://us-east-1?endpoint=http://127.0.0.1:4566` → Kinesis and DynamoDB clients (credentials from the environment). */
function clientsFor(url: string): Clients {
  const parsed = new URL(url)
  const common = { region: parsed.hostname || process.env.AWS_REGION || 'us-east-1', endpoint: parsed.searchParams.get('endpoint') ?? undefined }
  return {
    // HTTP/1.1: the client's HTTP/2 default is only needed for SubscribeToShard and fails on plain http:// (moto).
    kinesis: new KinesisClient({ ...common, requestHandler: new NodeHttpHandler() }),
    dynamodb: new DynamoDBClient(common),
    pollMs: Number(parsed.searchParams.get('pollMs') ?? defaultPollMs),
  }
}

/** At most `max` tasks at once, across every shard of a consumer. */
function limiter(max: number): <T>(task: () => T | Promise<T>) => Promise<T> {
  let active = 0
  const waiting: (() => void)[] = []
  return async (task) => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve))
    active++
    try {
      return await task()
    } finally {
      active--
      waiting.shift()?.()
    }
  }
}

/**
 * @aws-sdk/client-kinesis (and client-dynamodb for checkpoints) as an experienced user would write it
 * without the KCL, with anymq's guarantees: streams of 2 shards (the adapter's default); PutRecord per
 * send, PutRecords per batch (≤ 500 records, ≤ 5 MiB per call, records a call refused put again, up to 8
 * calls); one put call in flight per stream, as on moto concurrent puts lose records; a consumer reads every shard with GetShardIterator (TRIM_HORIZON) + GetRecords, runs at most
 * `concurrency` handlers, and after each batch's handlers writes the shard's checkpoint to DynamoDB
 * before the next GetRecords; an idle shard waits `pollMs` (1 s) as the adapter does. One consumer owns
 * every shard: no leases. Request/reply: a request stream, a reply stream per requester (read without
 * checkpoints), correlation id and reply stream in the JSON record.
 */
export async function kinesisRawClient(url: string): Promise<BenchClient> {
  const { kinesis, dynamodb, pollMs } = clientsFor(url)
  const ready = new Map<string, Promise<void>>()
  const putChains = new Map<string, Promise<void>>()
  /**
   * One PutRecord(s) call in flight per stream: moto numbers a shard's records without a lock, so two
   * concurrent calls can give two records one sequence number and keep one (seen losing 2 of 1 000 records
   * on this side; see the bench README). The adapter keeps one call in flight per stream for the same reason.
   */
  const onePutAtATime = (stream: string, put: () => Promise<void>): Promise<void> => {
    const done = (putChains.get(stream) ?? Promise.resolve()).then(put)
    putChains.set(
      stream,
      done.catch(() => {}),
    )
    return done
  }
  const ensureStream = (name: string): Promise<void> => {
    let found = ready.get(name)
    if (!found) {
      found = createStream(kinesis, name)
      ready.set(name, found)
    }
    return found
  }
  const putRecords = (stream: string, entries: PutRecordsRequestEntry[]): Promise<void> =>
    putRefusedAgain(entries, maxPutAttempts, async (pending) => {
      const result = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: pending }))
      if (!result.FailedRecordCount) return []
      return pending.flatMap((_, index) => (result.Records?.[index]?.ErrorCode ? [index] : []))
    })
  const putOne = async (stream: string, value: unknown) => {
    await kinesis.send(new PutRecordCommand({ StreamName: stream, Data: encode(value), PartitionKey: randomUUID() }))
  }
  const startReaders = async (
    stream: string,
    concurrency: number,
    handle: (record: _Record) => void | Promise<void>,
    checkpoints: boolean,
  ): Promise<Running> => {
    await ensureStream(stream)
    const table = `${stream}-checkpoints`
    if (checkpoints) await createTable(dynamodb, table)
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? []
    const limit = limiter(concurrency)
    let running = true
    let wake: (() => void)[] = []
    const idle = () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs)
        wake.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    const read = async (shardId: string) => {
      let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' })))
        .ShardIterator
      while (running && iterator) {
        try {
          const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }))
          const records = page.Records ?? []
          if (records.length > 0) {
            await Promise.all(records.map((record) => limit(() => handle(record))))
            const last = records[records.length - 1]?.SequenceNumber as string
            if (checkpoints) {
              await dynamodb.send(
                new UpdateItemCommand({
                  TableName: table,
                  Key: { shardId: { S: shardId } },
                  UpdateExpression: 'SET checkpoint = :sequence',
                  ExpressionAttributeValues: { ':sequence': { S: last } },
                }),
              )
            }
          }
          iterator = page.NextShardIterator
          if (records.length === 0) await idle()
        } catch (error) {
          // Stopped, or the stream is gone (deleted after its run): end quietly. Otherwise read again, as a consumer would.
          if (!running || (error as { name?: string }).name === 'ResourceNotFoundException') return
          await sleep(200)
        }
      }
    }
    const readers = shards.map((shard) => read(shard.ShardId as string))
    return {
      close: async () => {
        running = false
        for (const resolve of wake) resolve()
        wake = []
        await Promise.allSettled(readers)
      },
    }
  }
  let replies: { name: string; waiting: Map<string, (body: BenchBody) => void>; readers: Running } | undefined
  let replyNumber = 0
  return {
    side: 'raw',
    description:
      '@aws-sdk/client-kinesis 3: PutRecord / PutRecords (≤ 500), one put call in flight per stream, GetShardIterator + GetRecords per shard, checkpoint per shard in DynamoDB after each handled batch',
    async prepare(name, warmUp) {
      await ensureStream(name)
      await putOne(name, warmUp)
    },
    async send(name, body) {
      await ensureStream(name)
      await onePutAtATime(name, () => putOne(name, body))
    },
    async sendBatch(name, bodies) {
      await ensureStream(name)
      const entries = bodies.map((body) => ({ Data: encode(body), PartitionKey: randomUUID() }))
      const calls = splitAtLimits(entries, maxBatchRecords, maxBatchBytes, (entry) => (entry.Data?.byteLength ?? 0) + entry.PartitionKey.length)
      await onePutAtATime(name, async () => {
        for (const call of calls) await putRecords(name, call)
      })
    },
    consume: (name, concurrency, handle) => startReaders(name, concurrency, (record) => handle(decode<BenchBody>(record.Data)), true),
    serve: (name) =>
      startReaders(
        name,
        1,
        async (record) => {
          const request = decode<{ correlationId: string; replyTo: string; body: BenchBody }>(record.Data)
          await ensureStream(request.replyTo)
          await putOne(request.replyTo, { correlationId: request.correlationId, body: request.body })
        },
        true,
      ),
    async request(name, body) {
      if (replies && !replies.name.startsWith(`${name}-`)) {
        await replies.readers.close()
        replies = undefined
      }
      if (!replies) {
        const replyName = `${name}-replies-${replyNumber++}`
        const waiting = new Map<string, (body: BenchBody) => void>()
        const readers = await startReaders(
          replyName,
          10,
          (record) => {
            const reply = decode<{ correlationId: string; body: BenchBody }>(record.Data)
            waiting.get(reply.correlationId)?.(reply.body)
            waiting.delete(reply.correlationId)
          },
          false,
        )
        replies = { name: replyName, waiting, readers }
      }
      const inbox = replies
      const correlationId = randomUUID()
      const reply = new Promise<BenchBody>((resolve) => inbox.waiting.set(correlationId, resolve))
      await ensureStream(name)
      await putOne(name, { correlationId, replyTo: inbox.name, body })
      return reply
    },
    async close() {
      await replies?.readers.close()
      kinesis.destroy()
      dynamodb.destroy()
    },
  }
}

/** Creates a stream of the adapter's shard count (an existing one is kept) and waits until it is ACTIVE. */
async function createStream(kinesis: KinesisClient, name: string): Promise<void> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }))
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceInUseException') throw error
  }
  for (let attempt = 0; attempt < 300; attempt++) {
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))
    if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return
    await sleep(100)
  }
  throw new Error(`stream ${name} did not become ACTIVE`)
}

async function createTable(dynamodb: DynamoDBClient, name: string): Promise<void> {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [{ AttributeName: 'shardId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'shardId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    )
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceInUseException') throw error
  }
}

/** Deletes the streams and DynamoDB tables (checkpoints, anymq's lease tables) whose names contain `marker`. */
export async function kinesisCleanup(url: string, marker: string): Promise<void> {
  const { kinesis, dynamodb } = clientsFor(url)
  try {
    const streams: string[] = []
    let after: string | undefined
    for (;;) {
      const page = await kinesis.send(new ListStreamsCommand({ Limit: 100, ExclusiveStartStreamName: after }))
      const names = page.StreamNames ?? []
      streams.push(...names.filter((name) => name.includes(marker)))
      after = names[names.length - 1]
      if (!page.HasMoreStreams || !after) break
    }
    const tables: string[] = []
    let start: string | undefined
    do {
      const page = await dynamodb.send(new ListTablesCommand({ ExclusiveStartTableName: start }))
      tables.push(...(page.TableNames ?? []).filter((name) => name.includes(marker)))
      start = page.LastEvaluatedTableName
    } while (start)
    await Promise.all([
      ...streams.map((name) => kinesis.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true })).catch(() => {})),
      ...tables.map((name) => dynamodb.send(new DeleteTableCommand({ TableName: name })).catch(() => {})),
    ])
  } finally {
    kinesis.destroy()
    dynamodb.destroy()
  }
}
