import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { brokerUrl, Collector, describeForeignMessages, uniqueName } from '@anymq/conformance'
import { type Anymq, connect, transportOf } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_KAFKA_URL')
const run = promisify(execFile)

/** kcat's `-J` envelope: headers as a flat [name, value, name, value…] list. */
interface KcatRecord {
  topic: string
  partition: number
  offset: number
  key: string | null
  payload: string | null
  headers?: string[]
}

function bootstrap(): string {
  return new URL(url as string).host
}

async function kcatRead(topic: string, expected: number): Promise<KcatRecord[]> {
  // -e: exit at the end of every partition; retried until the records are there (acks=all already done).
  for (let attempt = 0; ; attempt++) {
    const { stdout } = await run('kcat', ['-b', bootstrap(), '-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q'], { timeout: 30_000 })
    const records = stdout
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as KcatRecord)
    if (records.length >= expected || attempt >= 10) return records
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}

function headersOf(record: KcatRecord): Record<string, string> {
  const result: Record<string, string> = {}
  const list = record.headers ?? []
  for (let index = 0; index + 1 < list.length; index += 2) result[list[index] as string] = list[index + 1] as string
  return result
}

describe.skipIf(!url)(`kafka interop with kcat${!url ? ' (ANYMQ_KAFKA_URL unset: run scripts/brokers.sh up kafka)' : ''}`, () => {
  const open: Anymq[] = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
  })

  it('a message sent by anymq is read by kcat with its body, key and headers', async () => {
    const mq = await connect(url as string, { adapter })
    open.push(mq)
    const name = uniqueName('interop-out')
    const { id } = await mq.queue<string>(name, { codec: 'text' }).send('hello from anymq ✓', {
      key: 'customer-42',
      headers: { tenant: 'acme', 'trace-id': 'abc-123' },
      correlationId: 'corr-9',
    })
    const [record] = await kcatRead(name, 1)
    expect(record?.payload).toBe('hello from anymq ✓')
    expect(record?.key).toBe('customer-42')
    expect(headersOf(record as KcatRecord)).toMatchObject({
      tenant: 'acme',
      'trace-id': 'abc-123',
      'x-anymq-id': id,
      'x-anymq-correlation-id': 'corr-9',
      'x-anymq-content-type': 'text/plain; charset=utf-8',
    })
  })

  it('by default a JSON record goes without x-anymq-content-type, others keep it; contentTypeHeader=always writes it on every record; a reader sees both content types', async () => {
    const always = new URL(url as string)
    always.searchParams.set('contentTypeHeader', 'always')
    const writer = await connect(url as string, { adapter })
    const alwaysWriter = await connect(always.toString(), { adapter })
    const reader = await connect(url as string, { adapter })
    open.push(writer, alwaysWriter, reader)
    const [jsonName, textName, alwaysName] = [uniqueName('compact-json'), uniqueName('compact-text'), uniqueName('always-json')]
    await writer.queue<{ n: number }>(jsonName, { broker: { partitions: 1 } }).send({ n: 1 })
    await writer.queue<string>(textName, { codec: 'text', broker: { partitions: 1 } }).send('plain')
    await alwaysWriter.queue<{ n: number }>(alwaysName, { broker: { partitions: 1 } }).send({ n: 2 })
    const [jsonRecord] = await kcatRead(jsonName, 1)
    const [textRecord] = await kcatRead(textName, 1)
    const [alwaysRecord] = await kcatRead(alwaysName, 1)
    expect(Object.keys(headersOf(jsonRecord as KcatRecord))).toEqual(['x-anymq-id'])
    expect(headersOf(alwaysRecord as KcatRecord)['x-anymq-content-type']).toBe('application/json')
    expect(headersOf(textRecord as KcatRecord)['x-anymq-content-type']).toBe('text/plain; charset=utf-8')
    // Content types reach core (envelope codecs, the bridge, dead letters) through the transport: peek shows them.
    const spec = (name: string) => ({ name, ordered: false, deadLetter: false as const, maxAttempts: 5, broker: {} })
    const [jsonMessage] = await transportOf(reader).peek(spec(jsonName), 1)
    const [textMessage] = await transportOf(reader).peek(spec(textName), 1)
    expect(jsonMessage?.contentType).toBe('application/json')
    expect(Buffer.from(jsonMessage?.body ?? []).toString()).toBe('{"n":1}')
    expect(textMessage?.contentType).toBe('text/plain; charset=utf-8')
    expect(Buffer.from(textMessage?.body ?? []).toString()).toBe('plain')
    // Read by a queue with its codec as ever.
    const json = new Collector<{ n: number }>()
    await reader.queue<{ n: number }>(jsonName).consume(json.handler).ready
    await json.waitForCount(1, 30_000)
    expect(json.bodies).toEqual([{ n: 1 }])
  })

  it('a message produced by kcat (raw body, key, headers) is consumed by anymq', async () => {
    const mq = await connect(url as string, { adapter })
    open.push(mq)
    const name = uniqueName('interop-in')
    const seen = new Collector<Uint8Array>()
    await mq.queue<Uint8Array>(name, { codec: 'raw' }).consume(seen.handler).ready
    const body = Buffer.from([0x00, 0xff, 0x0a, 0x7b, 0x22, 0xc3, 0x28, 0x0d, 0x0a, 0x01])
    const directory = mkdtempSync(join(tmpdir(), 'anymq-kcat-'))
    try {
      const file = join(directory, 'body.bin')
      writeFileSync(file, body)
      // A file argument is produced as one message, byte for byte.
      await run('kcat', ['-b', bootstrap(), '-P', '-t', name, '-k', 'order-7', '-H', 'source=kcat', '-H', 'city=Zürich', file], { timeout: 30_000 })
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
    await seen.waitForCount(1, 30_000)
    const message = seen.items[0]
    expect(Buffer.from(message?.body ?? []).equals(body)).toBe(true)
    expect(message?.key).toBe('order-7')
    expect(message?.headers).toEqual({ source: 'kcat', city: 'Zürich' })
    expect(message?.attempt).toBe(1)
    expect(message?.id).toMatch(new RegExp(`^${name}-\\d+-\\d+$`))
  })
})

describe.skipIf(!url)(`kafka foreign messages from kcat${!url ? ' (ANYMQ_KAFKA_URL unset: run scripts/brokers.sh up kafka)' : ''}`, () => {
  describeForeignMessages({
    name: 'kafka (kcat produce)',
    connect: () => connect(url as string, { adapter }),
    timeScale: 2,
    inject: async (queue, malformed, foreign) => {
      const directory = mkdtempSync(join(tmpdir(), 'anymq-kcat-'))
      try {
        const produce = async (body: string, headers: Record<string, string>) => {
          const file = join(directory, 'body.bin')
          writeFileSync(file, body)
          const flags = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}=${value}`])
          await run('kcat', ['-b', bootstrap(), '-P', '-t', queue, ...flags, file], { timeout: 30_000 })
        }
        await produce(malformed.body, {})
        await produce(foreign.body, foreign.headers)
      } finally {
        rmSync(directory, { recursive: true, force: true })
      }
    },
  })
})
