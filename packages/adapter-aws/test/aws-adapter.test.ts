import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { brokerUrl, Collector, outgoingMessage, uniqueName } from '@anymq/conformance'
import { type Anymq, ConfigError, connect, PublishError, UnsupportedFeatureError } from '@anymq/core'
import type { Transport } from '@anymq/core/spi'
import { DeleteQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs'
import { afterEach, describe, expect, it } from 'vitest'
import { queueName, subscriptionQueueName, topicName } from '../src/aws-names.js'
import { decodeMessage, encodeMessage } from '../src/aws-wire-format.js'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')

const outgoing = outgoingMessage

const encodeOptions = { fifo: false, ordered: false, maxBytes: 262_144, adapter: 'aws' }

describe('aws names', () => {
  it('keeps valid names and maps the others deterministically, without collisions', () => {
    expect(queueName('orders', false)).toBe('orders')
    expect(queueName('orders', true)).toBe('orders.fifo')
    expect(queueName('orders.dlq', false)).toMatch(/^orders_dlq-[0-9a-f]{10}$/)
    expect(queueName('orders.dlq', false)).toBe(queueName('orders.dlq', false))
    expect(queueName('a.b', false)).not.toBe(queueName('a_b', false))
    expect(queueName('a.b', false)).not.toBe(queueName('a-b', false))
    const long = 'x'.repeat(200)
    expect(queueName(long, false).length).toBeLessThanOrEqual(80)
    expect(queueName(long, true).length).toBeLessThanOrEqual(80)
    expect(queueName(long, true).endsWith('.fifo')).toBe(true)
    expect(queueName(long, false)).not.toBe(queueName(`${long.slice(1)}y`, false))
    expect(subscriptionQueueName('orders', 'billing')).toMatch(/^orders_billing-[0-9a-f]{10}$/)
    expect(subscriptionQueueName('orders', 'billing')).not.toBe(queueName('orders_billing', false))
    expect(subscriptionQueueName('a.b', 'c')).not.toBe(subscriptionQueueName('a', 'b.c'))
    expect(topicName('order-events')).toBe('order-events')
    expect(topicName('order.events')).toMatch(/^order_events-[0-9a-f]{10}$/)
  })
})

describe('aws wire format', () => {
  it('carries headers as attributes, anymq fields in one JSON attribute, and decodes them back', () => {
    const wire = encodeMessage(
      outgoing({ key: 'k', correlationId: 'c', headers: { tenant: 'acme', 'bad name': 'x', empty: '', 'x-anymq-attempt': '2' } }),
      encodeOptions,
    )
    expect(wire.body).toBe('{"a":1}')
    expect(Object.keys(wire.attributes).sort()).toEqual(['anymq', 'tenant'])
    const decoded = decodeMessage({ Body: wire.body, MessageAttributes: wire.attributes, Attributes: { ApproximateReceiveCount: '3' } })
    expect(decoded).toMatchObject({ id: 'm-1', key: 'k', correlationId: 'c', attempt: 3, timestamp: 1_700_000_000_000, contentType: 'application/json' })
    expect(decoded.headers).toEqual({ tenant: 'acme', 'bad name': 'x', empty: '', 'x-anymq-attempt': '2' })
  })

  it('sends bodies SQS cannot carry as text in a binary attribute', () => {
    for (const body of [new Uint8Array([0, 255, 1]), new Uint8Array(0), new TextEncoder().encode('nul \u0000 inside')]) {
      const wire = encodeMessage(outgoing({ body }), encodeOptions)
      expect(wire.body).toContain('anymq.body')
      expect(Buffer.from(decodeMessage({ Body: wire.body, MessageAttributes: wire.attributes }).body).equals(Buffer.from(body))).toBe(true)
    }
  })

  it('refuses more headers than SQS attributes allow, before sending', () => {
    const headers = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, index) => [`h${index}`, 'v']))
    expect(() => encodeMessage(outgoing({ headers: headers(9) }), encodeOptions)).not.toThrow()
    expect(() => encodeMessage(outgoing({ headers: headers(10) }), encodeOptions)).toThrow(PublishError)
    expect(() => encodeMessage(outgoing({ headers: headers(10) }), encodeOptions)).toThrow(
      /SQS allows 10 attributes per message and anymq uses 1: send at most 9 headers/,
    )
    expect(() => encodeMessage(outgoing({ headers: headers(9), body: new Uint8Array([0]) }), encodeOptions)).toThrow(/anymq uses 2/)
  })

  it('maps keys and dedupe ids onto FIFO group and deduplication ids SQS accepts', () => {
    const ordered = encodeMessage(outgoing({ key: 'customer 7 ✓', dedupeId: 'same' }), { ...encodeOptions, fifo: true, ordered: true })
    expect(ordered.groupId).toMatch(/^h-[0-9a-f]{64}$/)
    expect(ordered.deduplicationId).toBe('same')
    const unordered = encodeMessage(outgoing({ key: 'k' }), { ...encodeOptions, fifo: true, ordered: false })
    expect(unordered.groupId).toBe('m-1')
    expect(unordered.deduplicationId).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('aws configuration', () => {
  it('reports every bad URL option at once, and refuses credentials in the URL', async () => {
    const error = await connect('sqs://key:secretvalue@Not_A_Region/path?waitTimeSeconds=99&bogus=1&closeWaitsForPolls=maybe&endpoint=ftp://x', {
      adapter,
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    const fields = (error as ConfigError).problems.map((problem) => problem.field).sort()
    expect(fields).toEqual(['url', 'url ?bogus', 'url ?closeWaitsForPolls', 'url ?endpoint', 'url ?waitTimeSeconds', 'url host', 'url path'])
    expect((error as Error).message).not.toContain('secretvalue')
  })

  it('checks broker credentials without ever showing them', async () => {
    const error = await connect('sqs://us-east-1', { adapter, broker: { credentials: { accessKeyId: 'AKIA-not-shown', secretAccessKey: 42 } } }).catch(
      (caught: unknown) => caught,
    )
    expect((error as ConfigError).problems.map((problem) => `${problem.field}: ${problem.message}`)).toEqual([
      'broker.credentials.secretAccessKey: expected a string, got a number',
    ])
    expect((error as Error).message).not.toContain('AKIA-not-shown')
    await expect(connect('sqs://us-east-1', { adapter, broker: { credentials: 'AKIA-not-shown' } })).rejects.toThrow(
      'broker.credentials: expected a credential provider function or credentials { accessKeyId, secretAccessKey, sessionToken? }, got a string',
    )
  })

  it('takes no per-queue broker options, refused at the call', async () => {
    const idle = { close: async () => {}, terminate: async () => {} } as unknown as Transport
    const mq = await connect('sqs://us-east-1', { adapter: { ...adapter, connect: async () => idle } })
    try {
      expect(() => mq.queue('q', { broker: { fifo: true } })).toThrow("queue('q') options.broker.fifo: unknown option; allowed: (none)")
    } finally {
      await mq.close()
    }
  })

  it('refuses unknown broker options', async () => {
    await expect(connect('sqs://us-east-1', { adapter, broker: { accessKey: 'x' } })).rejects.toThrow(/broker.accessKey: unknown option; allowed: credentials/)
  })

  it('checks TLS settings before connecting: a readable CA file, and an https:// endpoint', async () => {
    const error = await connect('sqs://us-east-1?endpoint=http://127.0.0.1:1&ca=/nonexistent/ca.pem', { adapter }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems.map((problem) => problem.field).sort()).toEqual(['broker.tls', 'url ?ca'])
    await expect(connect('sqs://us-east-1', { adapter, broker: { tls: 'ca.pem' } })).rejects.toThrow(/broker.tls: expected an object of tls.connect options/)
  })
})

describe.skipIf(!url)(`aws adapter against the broker${!url ? ' (ANYMQ_SQS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  const open: Anymq[] = []
  const servers: Server[] = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
    for (const server of servers.splice(0)) server.close()
  })
  async function connectTo(target: string): Promise<Anymq> {
    const mq = await connect(target, { adapter })
    open.push(mq)
    return mq
  }

  it('deduplicates by dedupeId on a FIFO connection', async () => {
    const mq = await connectTo(`${url}&queueType=fifo&waitTimeSeconds=2`)
    const queue = mq.queue<string>(uniqueName('dedupe'))
    await queue.send('first', { dedupeId: 'same' })
    await queue.send('repeat', { dedupeId: 'same' })
    await queue.send('other', { dedupeId: 'different' })
    const seen = new Collector<string>()
    await queue.consume(seen.handler).ready
    await seen.waitForCount(2, 20_000)
    await queue.send('marker')
    await seen.waitForCount(3, 20_000)
    expect(seen.bodies.sort()).toEqual(['first', 'marker', 'other'])
  })

  it('redelivers a nacked message of an ordered (FIFO) queue before the next one of its key', async () => {
    const mq = await connectTo(`${url}&waitTimeSeconds=2`)
    const queue = mq.queue<string>(uniqueName('fifo-nack'), { ordered: true, retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 0 } } })
    await queue.sendBatch(['a', 'b'], { key: 'k' })
    const seen: string[] = []
    const done = new Collector<string>()
    await queue.consume(
      async (message) => {
        seen.push(`${message.body}#${message.attempt}`)
        if (message.body === 'a' && message.attempt === 1) await message.nack()
        else {
          await message.ack()
          done.add(message)
        }
      },
      { ack: 'manual' },
    ).ready
    await done.waitForCount(2, 30_000)
    expect(seen).toEqual(['a#1', 'a#2', 'b#1'])
  })

  it('keeps per-key order across two consumer instances of an ordered (FIFO) queue', async () => {
    // One message in flight per instance and more keys than instances: moto's group lock (checked
    // against a snapshot taken when a receive starts) cannot be raced into handing out a key twice,
    // so this holds on moto as it does on AWS with any concurrency.
    const [producer, first, second] = [
      await connectTo(`${url}&waitTimeSeconds=2`),
      await connectTo(`${url}&waitTimeSeconds=2`),
      await connectTo(`${url}&waitTimeSeconds=2`),
    ]
    const name = uniqueName('fifo-order')
    type Body = { key: string; seq: number }
    const seen = new Collector<Body>()
    const instances = new Map<string, Set<number>>()
    const handler = (instance: number) => async (message: Parameters<typeof seen.handler>[0]) => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      instances.set(message.body.key, (instances.get(message.body.key) ?? new Set()).add(instance))
      seen.add(message)
    }
    await Promise.all([
      first.queue<Body>(name, { ordered: true }).consume(handler(1)).ready,
      second.queue<Body>(name, { ordered: true }).consume(handler(2)).ready,
    ])
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']
    const bodies = Array.from({ length: 10 }, (_, seq) => keys.map((key) => ({ key, seq }))).flat()
    await producer.queue<Body>(name, { ordered: true }).sendBatch(bodies, (body) => ({ key: body.key }))
    await seen.waitForCount(bodies.length, 60_000)
    for (const key of keys) {
      expect(seen.bodies.filter((body) => body.key === key).map((body) => body.seq)).toEqual(Array.from({ length: 10 }, (_, seq) => seq))
    }
    // Both instances took part: the order held across them, not because one did all the work.
    expect(new Set([...instances.values()].flatMap((set) => [...set])).size).toBe(2)
  })

  it('refuses delayMs on an ordered (FIFO) queue and dedupeId on a standard connection', async () => {
    const mq = await connectTo(url as string)
    await expect(mq.queue(uniqueName('fifo-delay'), { ordered: true }).send('x', { delayMs: 1000 })).rejects.toBeInstanceOf(UnsupportedFeatureError)
    await expect(mq.queue(uniqueName('std-dedupe')).send('x', { dedupeId: 'a' })).rejects.toBeInstanceOf(UnsupportedFeatureError)
  })

  it('lists queues and subscriptions whose names SQS cannot carry (dots, FIFO) by their anymq names, and deletes a topic with its subscription queues', async () => {
    const mq = await connectTo(`${url}&waitTimeSeconds=1`)
    const prefix = uniqueName('admin')
    const ordered = mq.queue<string>(`${prefix}.orders`, { ordered: true })
    await ordered.send('x', { key: 'k' })
    const topic = mq.topic<string>(`${prefix}.events`)
    const subscription = topic.subscribe('audit.v2', () => {})
    await subscription.ready
    await subscription.close()
    // The named subscription's dead-letter queue exists once its consumer set the SQS redrive backstop.
    expect(await mq.list({ prefix })).toEqual([
      { kind: 'queue', name: `${prefix}.events.audit.v2.dlq` },
      { kind: 'queue', name: `${prefix}.orders` },
      { kind: 'topic', name: `${prefix}.events` },
      { kind: 'subscription', name: 'audit.v2', topic: `${prefix}.events` },
    ])
    expect(await ordered.stats()).toMatchObject({ ready: 1, inFlight: 0 })
    await topic.delete()
    const endpoint = new URL(url as string).searchParams.get('endpoint') ?? undefined
    const sqs = new SQSClient({ region: new URL(url as string).hostname, ...(endpoint ? { endpoint } : {}) })
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: subscriptionQueueName(`${prefix}.events`, 'audit.v2') }))).rejects.toThrow()
    sqs.destroy()
    await ordered.delete()
    await mq.queue(`${prefix}.events.audit.v2.dlq`).delete()
    expect(await mq.list({ prefix })).toEqual([])
  })

  it('closes the connection without leaving a long poll at SQS that takes the next message sent', async () => {
    const name = uniqueName('closed-poll')
    const first = await connect(`${url}&waitTimeSeconds=5`, { adapter })
    const before = new Collector<string>()
    // A lease of an hour: a message taken by a poll left waiting at SQS would stay invisible past this test.
    await first.queue<string>(name).consume(before.handler, { leaseMs: 3_600_000 }).ready
    await first.queue<string>(name).send('before')
    await before.waitForCount(1, 20_000)
    await first.close()
    const second = await connectTo(`${url}&waitTimeSeconds=1`)
    const queue = second.queue<string>(name)
    await queue.send('after the restart')
    const seen = new Collector<string>()
    await queue.consume(seen.handler).ready
    await seen.waitForCount(1, 20_000)
    expect(seen.bodies).toEqual(['after the restart'])
  })

  it('resumes consuming and sending after the queue was deleted behind its back (as a moto restart does)', async () => {
    const mq = await connectTo(`${url}&waitTimeSeconds=1`)
    const name = uniqueName('deleted')
    const queue = mq.queue<number>(name)
    const seen = new Collector<number>()
    const errors: Error[] = []
    await queue.consume(seen.handler, { onError: (error) => errors.push(error) }).ready
    await queue.send(1)
    await seen.waitForCount(1, 20_000)
    const endpoint = new URL(url as string).searchParams.get('endpoint') ?? undefined
    const sqs = new SQSClient({ region: new URL(url as string).hostname, ...(endpoint ? { endpoint } : {}) })
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }))
    await sqs.send(new DeleteQueueCommand({ QueueUrl }))
    sqs.destroy()
    // The first message's settle may still be on its way and fail first (its queue is gone): the receive
    // loop's own report is the one that says the consumer noticed.
    await expect.poll(() => errors.some((error) => /receiving from queue/.test(error.message)), { timeout: 20_000 }).toBe(true)
    await queue.send(2)
    await seen.waitForCount(2, 30_000)
    expect(seen.bodies).toEqual([1, 2])
  })

  it('sets the redrive-policy backstop again after the queue and its dead-letter queue were deleted (as a moto restart does)', async () => {
    const warnings: string[] = []
    const logger = { debug() {}, info() {}, warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) }
    const mq = await connect(`${url}&waitTimeSeconds=1`, { adapter, logger })
    open.push(mq)
    const name = uniqueName('redrive')
    const deadLetterName = queueName(`${name}.dlq`, false)
    const errors: Error[] = []
    await mq.queue<number>(name, { deadLetter: `${name}.dlq` }).consume(async () => {}, { onError: (error) => errors.push(error) }).ready
    const endpoint = new URL(url as string).searchParams.get('endpoint') ?? undefined
    const sqs = new SQSClient({ region: new URL(url as string).hostname, ...(endpoint ? { endpoint } : {}) })
    try {
      const redriveTarget = async (): Promise<string | undefined> => {
        const [source, deadLetter] = await Promise.all([
          sqs.send(new GetQueueUrlCommand({ QueueName: name })),
          sqs.send(new GetQueueUrlCommand({ QueueName: deadLetterName })),
        ])
        const [policy, arn] = await Promise.all([
          sqs.send(new GetQueueAttributesCommand({ QueueUrl: source.QueueUrl, AttributeNames: ['RedrivePolicy'] })),
          sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetter.QueueUrl, AttributeNames: ['QueueArn'] })),
        ])
        const target = JSON.parse(policy.Attributes?.RedrivePolicy ?? '{}').deadLetterTargetArn
        return target !== undefined && target === arn.Attributes?.QueueArn ? target : undefined
      }
      await expect.poll(() => redriveTarget().catch(() => undefined), { timeout: 20_000 }).toBeDefined()
      for (const queue of [name, deadLetterName]) {
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue }))
        await sqs.send(new DeleteQueueCommand({ QueueUrl }))
      }
      await expect.poll(() => errors.length, { timeout: 20_000 }).toBeGreaterThan(0)
      // Both queues come back, and the source's redrive policy names the new dead-letter queue.
      await expect.poll(() => redriveTarget().catch(() => undefined), { timeout: 30_000 }).toBeDefined()
      expect(warnings.filter((warning) => /redrive/.test(warning))).toEqual([])
    } finally {
      sqs.destroy()
    }
  })

  it('reports a long poll that hangs and keeps consuming once the endpoint answers again', async () => {
    const target = new URL(new URL(url as string).searchParams.get('endpoint') ?? 'http://127.0.0.1:4566')
    let hang = true
    const server = createServer((incoming, outgoingResponse) => {
      if (hang && incoming.headers['x-amz-target'] === 'AmazonSQS.ReceiveMessage') return // never answered
      const forward = request(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (answer) => {
          outgoingResponse.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(outgoingResponse)
        },
      )
      forward.on('error', () => outgoingResponse.destroy())
      incoming.pipe(forward)
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const mq = await connectTo(`sqs://${new URL(url as string).hostname}?endpoint=http://127.0.0.1:${port}&waitTimeSeconds=1`)
    const queue = mq.queue<string>(uniqueName('hung'))
    const seen = new Collector<string>()
    const errors: Error[] = []
    await queue.consume(seen.handler, { onError: (error) => errors.push(error) }).ready
    await queue.send('after the hang')
    // The poll client's request timeout is waitTimeSeconds + 10 s (the watchdog, + 15 s, backs it up).
    await expect.poll(() => errors.length, { timeout: 30_000, interval: 500 }).toBeGreaterThan(0)
    expect(errors[0]?.name).toBe('ConnectionError')
    // The HTTP request timeout fired (not the watchdog, 5 s later): it is armed, not just logged.
    expect(errors[0]?.message).toMatch(/receiving from queue .* failed: .*timeout/i)
    expect(errors[0]?.message).not.toMatch(/got no answer within/)
    hang = false
    await seen.waitForCount(1, 30_000)
    expect(seen.bodies).toEqual(['after the hang'])
  })
})
