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
 * in it: what anymq sends must be readable there, and what the CLI sends must be consumable here.
 */
const url = brokerUrl('ANYMQ_SQS_URL')
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

interface CliMessage {
  MessageId: string
  ReceiptHandle: string
  Body: string
  Attributes?: Record<string, string>
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>
}

describe.skipIf(!url || !existsSync(cli))('aws interop with the AWS CLI (needs ANYMQ_SQS_URL and the CLI from scripts/brokers.sh up sqs)', () => {
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
  })

  it('a message sent by anymq is received by the AWS CLI with its attributes', async () => {
    const mq = await connect(url as string, { adapter })
    open.push(mq)
    const name = uniqueName('interop-out')
    await mq
      .queue<{ order: number }>(name)
      .send({ order: 42 }, { id: 'order-42', key: 'customer-7', correlationId: 'corr-9', headers: { tenant: 'acme', 'trace-id': 'abc-123' } })
    const queueUrl = (await aws('sqs', 'get-queue-url', '--queue-name', name)).QueueUrl as string
    const received = await aws(
      'sqs',
      'receive-message',
      '--queue-url',
      queueUrl,
      '--message-attribute-names',
      'All',
      '--attribute-names',
      'All',
      '--wait-time-seconds',
      '5',
    )
    const [message] = received.Messages as CliMessage[]
    expect(JSON.parse(message?.Body ?? 'null')).toEqual({ order: 42 })
    expect(message?.MessageAttributes?.tenant).toEqual({ DataType: 'String', StringValue: 'acme' })
    expect(message?.MessageAttributes?.['trace-id']?.StringValue).toBe('abc-123')
    const meta = JSON.parse(message?.MessageAttributes?.anymq?.StringValue ?? '{}') as Record<string, unknown>
    expect(meta).toMatchObject({ v: 1, id: 'order-42', key: 'customer-7', correlationId: 'corr-9', contentType: 'application/json' })
    expect(typeof meta.timestamp).toBe('number')
    expect(message?.Attributes?.ApproximateReceiveCount).toBe('1')
    await aws('sqs', 'delete-message', '--queue-url', queueUrl, '--receipt-handle', message?.ReceiptHandle as string)
  })

  it('a message sent by the AWS CLI is consumed by anymq, its attributes as headers', async () => {
    const name = uniqueName('interop-in')
    const queueUrl = (await aws('sqs', 'create-queue', '--queue-name', name)).QueueUrl as string
    const sent = await aws(
      'sqs',
      'send-message',
      '--queue-url',
      queueUrl,
      '--message-body',
      '{"sku":"abc","qty":2}',
      '--message-attributes',
      JSON.stringify({ tenant: { DataType: 'String', StringValue: 'acme' }, priority: { DataType: 'Number', StringValue: '5' } }),
    )
    const mq = await connect(url as string, { adapter })
    open.push(mq)
    const seen = new Collector<{ sku: string; qty: number }>()
    await mq.queue<{ sku: string; qty: number }>(name).consume(seen.handler).ready
    await seen.waitForCount(1, 20_000)
    const message = seen.items[0]
    expect(message?.body).toEqual({ sku: 'abc', qty: 2 })
    expect(message?.headers).toEqual({ tenant: 'acme', priority: '5' })
    expect(message?.id).toBe(sent.MessageId)
    expect(message?.attempt).toBe(1)
    expect(message?.key).toBeUndefined()
    // Acked: the queue is empty for the CLI afterwards.
    await mq.close()
    const after = await aws('sqs', 'receive-message', '--queue-url', queueUrl, '--wait-time-seconds', '1')
    expect(after.Messages ?? []).toEqual([])
  })

  it('an SNS publish by the AWS CLI reaches a named anymq subscription, filtered by its attributes', async () => {
    const mq = await connect(url as string, { adapter })
    open.push(mq)
    const topic = uniqueName('interop-topic')
    const eu = new Collector<string>()
    await mq.topic<string>(topic, { codec: 'text' }).subscribe('eu', eu.handler, { filter: { headers: { region: 'eu' } } }).ready
    const topicArn = (await aws('sns', 'create-topic', '--name', topic)).TopicArn as string
    for (const [body, value] of [
      ['for-us', 'us'],
      ['for-eu', 'eu'],
    ]) {
      await aws(
        'sns',
        'publish',
        '--topic-arn',
        topicArn,
        '--message',
        body as string,
        '--message-attributes',
        JSON.stringify({ region: { DataType: 'String', StringValue: value } }),
      )
    }
    await eu.waitForCount(1, 20_000)
    expect(eu.bodies).toEqual(['for-eu'])
    expect(eu.items[0]?.headers).toEqual({ region: 'eu' })
  })

  it('an event put on the bus by the AWS CLI (source anymq, the topic as detail-type) reaches an anymq subscription on topics=eventbridge', async () => {
    const mq = await connect(`${url}&waitTimeSeconds=1&topics=eventbridge`, { adapter })
    open.push(mq)
    const topic = uniqueName('interop-events')
    const received = new Collector<{ order: number }>()
    await mq.topic<{ order: number }>(topic).subscribe('billing', received.handler).ready
    const other = uniqueName('interop-other')
    const result = await aws(
      'events',
      'put-events',
      '--entries',
      JSON.stringify([
        { Source: 'anymq', DetailType: other, Detail: JSON.stringify({ order: 1 }) },
        { Source: 'anymq', DetailType: topic, Detail: JSON.stringify({ order: 42 }) },
      ]),
    )
    expect(result.FailedEntryCount).toBe(0)
    await received.waitForCount(1, 20_000)
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(received.bodies).toEqual([{ order: 42 }])
  })
})

describe.skipIf(!url || !existsSync(cli))('aws foreign messages from the AWS CLI (needs ANYMQ_SQS_URL and the CLI from scripts/brokers.sh up sqs)', () => {
  describeForeignMessages({
    name: 'aws (aws sqs send-message)',
    connect: () => connect(`${url}&waitTimeSeconds=2`, { adapter }),
    timeScale: 2,
    inject: async (queue, malformed, foreign) => {
      const queueUrl = (await aws('sqs', 'get-queue-url', '--queue-name', queue)).QueueUrl as string
      await aws('sqs', 'send-message', '--queue-url', queueUrl, '--message-body', malformed.body)
      // SQS refuses an empty attribute value: those are left out.
      const attributes = Object.fromEntries(
        Object.entries(foreign.headers)
          .filter(([, value]) => value !== '')
          .map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
      )
      attributes['x-binary'] = { DataType: 'Binary', BinaryValue: Buffer.from([0, 255, 1]).toString('base64') } as never
      await aws('sqs', 'send-message', '--queue-url', queueUrl, '--message-body', foreign.body, '--message-attributes', JSON.stringify(attributes))
    },
  })
})
