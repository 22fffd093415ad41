import { brokerUrl, outgoingMessage, uniqueName } from '@anymq/conformance'
import { type Anymq, ConfigError, connect, MessageTooLargeError, PublishError } from '@anymq/core'
import type { EventBridgeClient, PutEventsCommand, PutEventsResultEntry } from '@aws-sdk/client-eventbridge'
import type { Message as SqsMessage } from '@aws-sdk/client-sqs'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeEvent } from '../src/aws-eventbridge-format.js'
import { EventBridgePublisher } from '../src/aws-eventbridge-publisher.js'
import type { EventBridgeTopology } from '../src/aws-eventbridge-topology.js'
import { eventDetailType } from '../src/aws-names.js'
import { decodeMessage } from '../src/aws-wire-format.js'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')

const outgoing = outgoingMessage

/** A PutEvents stand-in: records every request and answers each entry with `answer`. */
function fakeEvents(answer: (id: string, call: number) => PutEventsResultEntry) {
  const requests: string[][] = []
  const client = {
    async send(command: PutEventsCommand) {
      const ids = (command.input.Entries ?? []).map((entry) => (JSON.parse(entry.Detail ?? '{}') as { id: string }).id)
      requests.push(ids)
      const entries = ids.map((id) => answer(id, requests.length))
      return { Entries: entries, FailedEntryCount: entries.filter((entry) => entry.ErrorCode).length }
    },
  }
  const topology = { eventBus: 'default', ensureBus: async () => {} }
  return { requests, publisher: new EventBridgePublisher(client as unknown as EventBridgeClient, topology as unknown as EventBridgeTopology) }
}

describe('aws EventBridge publishing', () => {
  it('sends at most 10 entries per PutEvents request', async () => {
    const { requests, publisher } = fakeEvents(() => ({ EventId: 'e' }))
    const messages = Array.from({ length: 23 }, (_, index) => outgoing({ id: `m-${index}` }))
    await Promise.all(publisher.publish('t', messages, 262_144))
    expect(requests.flat().sort()).toEqual(messages.map((message) => message.id).sort())
    expect(Math.max(...requests.map((request) => request.length))).toBe(10)
    expect(requests.length).toBe(3)
  })

  it('keeps each request within 256 KiB as PutEvents counts entries', async () => {
    const { requests, publisher } = fakeEvents(() => ({ EventId: 'e' }))
    // Four 100 KB entries: two fit in one request, three do not.
    const messages = Array.from({ length: 4 }, (_, index) => outgoing({ id: `big-${index}`, body: new TextEncoder().encode('x'.repeat(100_000)) }))
    await Promise.all(publisher.publish('t', messages, 262_144))
    expect(requests.map((request) => request.length)).toEqual([2, 2])
  })

  it('sends again only the entries PutEvents failed retryably, and reports the refused ones', async () => {
    const { requests, publisher } = fakeEvents((id, call) => {
      if (id === 'throttled' && call === 1) return { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }
      if (id === 'invalid') return { ErrorCode: 'ValidationException', ErrorMessage: 'no' }
      return { EventId: `e-${id}` }
    })
    const results = await Promise.allSettled(
      publisher.publish('t', [outgoing({ id: 'ok' }), outgoing({ id: 'throttled' }), outgoing({ id: 'invalid' })], 262_144),
    )
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected'])
    const refused = (results[2] as PromiseRejectedResult).reason as PublishError
    expect(refused).toBeInstanceOf(PublishError)
    expect(refused.isRetryable).toBe(false)
    expect(refused.message).toContain('ValidationException')
    expect(requests[0]).toEqual(['ok', 'throttled', 'invalid'])
    expect(requests.slice(1).flat()).toEqual(['throttled'])
  })

  it('refuses an event over the size limit before sending anything', () => {
    const { requests, publisher } = fakeEvents(() => ({ EventId: 'e' }))
    expect(() => publisher.publish('t', [outgoing({ body: new Uint8Array(2048).fill(65) })], 2048)).toThrow(MessageTooLargeError)
    expect(requests).toEqual([])
  })

  it('reads back what a rule delivered to SQS (the whole event as the body), binary bodies included', () => {
    const body = new Uint8Array([0, 255, 1, 254])
    const { entry } = encodeEvent(outgoing({ body, key: 'k', headers: { tenant: 'acme', 'x-anymq-error': 'e' } }), {
      topic: 'orders.events',
      eventBus: 'default',
      maxBytes: 262_144,
      adapter: 'aws',
    })
    const event = { version: '0', id: 'x', 'detail-type': entry.DetailType, source: entry.Source, detail: JSON.parse(entry.Detail ?? '') }
    const sqsMessage: SqsMessage = {
      MessageId: 'sqs-1',
      Body: JSON.stringify(event),
      Attributes: { ApproximateReceiveCount: '3', ApproximateFirstReceiveTimestamp: '1700000000500' },
    }
    const decoded = decodeMessage(sqsMessage)
    expect(decoded.id).toBe('m-1')
    expect([...decoded.body]).toEqual([...body])
    expect(decoded.key).toBe('k')
    expect(decoded.headers.tenant).toBe('acme')
    expect(decoded.headers['x-anymq-error']).toBe('e')
    expect(decoded.attempt).toBe(3)
  })
})

describe('aws EventBridge URL options', () => {
  it('refuses an eventBus without topics=eventbridge, and a bus name EventBridge would refuse, in one ConfigError', async () => {
    const error = await connect('sqs://us-east-1?eventBus=bad/name', { adapter }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toContain('only applies with ?topics=eventbridge')
    expect((error as Error).message).toContain("'bad/name' is not an EventBridge bus name")
  })
})

describe.skipIf(!url)('aws EventBridge topics on the broker', () => {
  let mq: Anymq | undefined
  afterEach(async () => {
    await mq?.close()
    mq = undefined
  })

  it('delivers through an EventBridge rule: the subscription queue receives the event, not an SNS message', async () => {
    mq = await connect(`${url}&waitTimeSeconds=1&topics=eventbridge`, { adapter })
    const topic = mq.topic<{ n: number }>(uniqueName('eb-topic'))
    const received: { body: unknown; raw: unknown }[] = []
    const subscription = topic.subscribe('audit', (message) => {
      received.push({ body: message.body, raw: message.raw })
    })
    await subscription.ready
    await topic.publish({ n: 7 }, { headers: { tenant: 'acme' } })
    const deadline = Date.now() + 15_000
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(received[0]?.body).toEqual({ n: 7 })
    const event = JSON.parse((received[0]?.raw as SqsMessage | undefined)?.Body ?? '{}') as Record<string, unknown>
    expect(event.source).toBe('anymq')
    expect(event['detail-type']).toBe(eventDetailType(topic.name))
    expect((event.detail as { headers: Record<string, string> }).headers.tenant).toBe('acme')
  })
})
