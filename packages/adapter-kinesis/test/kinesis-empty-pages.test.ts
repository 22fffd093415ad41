import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { brokerUrl, uniqueName } from '@anymq/conformance'
import { connect, silentLogger, transportOf } from '@anymq/core'
import type { QueueSpec } from '@anymq/core/spi'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { maxEmptyPagesInARow } from '../src/kinesis-shard-pages.js'

const base = brokerUrl('ANYMQ_KINESIS_URL')

/**
 * An HTTP proxy in front of the emulator that answers the first `emptyPages` GetRecords calls itself
 * as Kinesis does while an iterator crosses a stretch of a shard without records: no records, the
 * same iterator to go on with, MillisBehindLatest > 0. The emulator never answers so.
 */
async function startEmptyPageProxy(target: URL, emptyPages: number): Promise<{ server: Server; port: number; getRecords(): number }> {
  let getRecords = 0
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', () => {
      const body = Buffer.concat(chunks)
      if (incoming.headers['x-amz-target'] === 'Kinesis_20131202.GetRecords' && ++getRecords <= emptyPages) {
        const { ShardIterator } = JSON.parse(body.toString()) as { ShardIterator: string }
        outgoing.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        outgoing.end(JSON.stringify({ Records: [], NextShardIterator: ShardIterator, MillisBehindLatest: 60_000 }))
        return
      }
      const forward = request(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(outgoing)
        },
      )
      forward.on('error', () => outgoing.destroy())
      forward.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, getRecords: () => getRecords }
}

describe.skipIf(!base)(`kinesis scans over empty pages${!base ? ' (ANYMQ_KINESIS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  })

  async function peekThroughProxy(emptyPages: number): Promise<{ bodies: unknown[]; getRecords: number }> {
    // One shard, so one scan reads every record.
    const direct = await connect(`${base}&shards=1`, { adapter, logger: silentLogger })
    cleanups.push(() => direct.close())
    const name = uniqueName('empty-pages')
    const queue = direct.queue<string>(name)
    cleanups.push(() => queue.delete())
    await queue.sendBatch(['one', 'two', 'three'])
    const endpoint = new URL(new URL(base as string).searchParams.get('endpoint') as string)
    const proxy = await startEmptyPageProxy(endpoint, emptyPages)
    cleanups.push(() => new Promise((resolve) => proxy.server.close(resolve)))
    const relayed = new URL(`${base}&shards=1`)
    relayed.searchParams.set('endpoint', `http://127.0.0.1:${proxy.port}`)
    const mq = await connect(relayed.toString(), { adapter, logger: silentLogger })
    cleanups.push(() => mq.close())
    const spec: QueueSpec = { name, ordered: false, deadLetter: false, maxAttempts: 5, broker: {} }
    const messages = await transportOf(mq).peek(spec, 10)
    return { bodies: messages.map((message) => JSON.parse(new TextDecoder().decode(message.body))), getRecords: proxy.getRecords() }
  }

  it('peek reads on past empty pages that are behind the tip, to the records after them', async () => {
    const { bodies } = await peekThroughProxy(3)
    // Before, the scan stopped at the first empty page and found nothing.
    expect(bodies.sort()).toEqual(['one', 'three', 'two'])
  })

  it(`peek gives up on a shard after ${maxEmptyPagesInARow} empty pages in a row`, async () => {
    const { bodies, getRecords } = await peekThroughProxy(Number.POSITIVE_INFINITY)
    expect(bodies).toEqual([])
    expect(getRecords).toBe(maxEmptyPagesInARow)
  })
})
