import amqplib, { type ConfirmChannel, type ConsumeMessage } from 'amqplib'
import { afterEach, describe, expect, it } from 'vitest'
import { frameWriter } from '../src/rabbitmq-frame-writer.js'
import { encodePublish, type PublishProperties } from '../src/rabbitmq-publish-frame.js'
import { uniqueName, url } from './test-connections.js'

const open: amqplib.ChannelModel[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((model) => model.close()))
})

/** A confirm channel whose muxer slot records every chunk amqplib writes to it (and still sends it). */
async function recordingChannel(query = '') {
  const model = await amqplib.connect(`${url!}${query}`)
  open.push(model)
  const channel = await model.createConfirmChannel()
  const internals = channel as unknown as { ch: number; connection: { frameMax: number; channels: { buffer: { write(chunk: Buffer): boolean } }[] } }
  const slot = internals.connection.channels[internals.ch]!
  const chunks: Buffer[] = []
  const write = slot.buffer.write.bind(slot.buffer)
  slot.buffer.write = (chunk: Buffer) => {
    chunks.push(Buffer.from(chunk))
    return write(chunk)
  }
  return { model, channel, number: internals.ch, frameMax: () => internals.connection.frameMax, chunks }
}

const confirmed = (publish: (done: (error: unknown) => void) => unknown) =>
  new Promise<void>((resolve, reject) => {
    publish((error) => (error ? reject(error) : resolve()))
  })

const everyProperty: PublishProperties = {
  messageId: 'c0ffee-1',
  contentType: 'application/json',
  headers: { 'x-anymq-timestamp': '1764590000123', tenant: 'été — ünïcode', empty: '' },
  correlationId: 'corr-7',
  replyTo: 'amq.gen-reply',
  timestamp: 1_764_590_000,
  persistent: true,
  mandatory: true,
  expiration: '60000',
  priority: 7,
}

// The cases that need a channel skip without a broker (ANYMQ_RABBITMQ_URL unset: run scripts/brokers.sh up rabbitmq).
describe('encodePublish', () => {
  it.skipIf(!url)(
    'writes the bytes amqplib writes for the same publish, whatever the properties, and cuts a large body at frameMax as amqplib does',
    async () => {
      const { channel, number, frameMax, chunks } = await recordingChannel('?frameMax=4096')
      const queue = uniqueName('frame')
      await channel.assertQueue(queue, { durable: false, autoDelete: true })
      const cases: [string, Buffer, PublishProperties][] = [
        ['every property', Buffer.from('{"hello":"world"}'), everyProperty],
        ['no headers, not persistent, not mandatory', Buffer.from('x'), { messageId: 'id', contentType: 'text/plain', persistent: false, timestamp: 0 }],
        ['empty body', Buffer.alloc(0), { messageId: 'empty', persistent: true }],
        ['nothing at all', Buffer.from('bare'), {}],
        ['a body over one frame', Buffer.alloc(10_000, 7), { ...everyProperty, mandatory: false }],
        ['a timestamp beyond 32 bits', Buffer.from('t'), { timestamp: 2 ** 40 + 5 }],
      ]
      for (const [what, content, properties] of cases) {
        chunks.length = 0
        await confirmed((done) => channel.publish('', queue, content, properties, done))
        const amqplibBytes = Buffer.concat(chunks)
        expect(encodePublish(number, '', queue, content, properties, frameMax()), what).toEqual(amqplibBytes)
      }
      expect(frameMax()).toBe(4096)
    },
  )

  it('leaves to amqplib what it does not encode: short strings over 255 bytes, header values that are not strings, an out-of-range priority', () => {
    const body = Buffer.from('x')
    expect(encodePublish(1, '', 'q'.repeat(256), body, {}, 0)).toBeUndefined()
    expect(encodePublish(1, 'é'.repeat(128), 'q', body, {}, 0)).toBeUndefined()
    expect(encodePublish(1, '', 'q', body, { messageId: 'm'.repeat(256) }, 0)).toBeUndefined()
    expect(encodePublish(1, '', 'q', body, { headers: { ['h'.repeat(256)]: 'v' } }, 0)).toBeUndefined()
    expect(encodePublish(1, '', 'q', body, { headers: { count: 3 as unknown as string } }, 0)).toBeUndefined()
    expect(encodePublish(1, '', 'q', body, { priority: 256 }, 0)).toBeUndefined()
    expect(encodePublish(1, '', 'q', body, { timestamp: -1 }, 0)).toBeUndefined()
    expect(encodePublish(1, '', 'q'.repeat(255), body, { messageId: 'm'.repeat(255) }, 0)).toBeInstanceOf(Buffer)
  })
})

describe('frameWriter', () => {
  it.skipIf(!url)('publishes what a plain amqplib consumer reads back property for property, and resolves on the confirm', async () => {
    const { model, channel } = await recordingChannel()
    const queue = uniqueName('frame-writer')
    await channel.assertQueue(queue, { durable: true, maxPriority: 10 })
    const write = frameWriter(channel)
    expect(write).toBeDefined()
    const large = Buffer.alloc(300_000, 1)
    let sent = 0
    for (const content of [Buffer.from('{"n":1}'), large]) {
      await confirmed((done) => {
        expect(write!('', queue, content, everyProperty, done)).toBeTypeOf('boolean')
        sent++
      })
    }
    const reader = await model.createChannel()
    const received: ConsumeMessage[] = []
    await new Promise<void>((resolve) => {
      void reader.consume(queue, (message) => {
        if (!message) return
        received.push(message)
        reader.ack(message)
        if (received.length === sent) resolve()
      })
    })
    await reader.deleteQueue(queue)
    expect(received.map((message) => message.content.length)).toEqual([7, 300_000])
    expect(received[1]!.content.equals(large)).toBe(true)
    const { properties } = received[0]!
    expect(properties).toMatchObject({
      messageId: 'c0ffee-1',
      contentType: 'application/json',
      correlationId: 'corr-7',
      replyTo: 'amq.gen-reply',
      timestamp: 1_764_590_000,
      deliveryMode: 2,
      expiration: '60000',
      priority: 7,
    })
    expect(Object.fromEntries(Object.entries(properties.headers ?? {}).map(([name, value]) => [name, String(value)]))).toEqual(everyProperty.headers)
  })

  it.skipIf(!url)('leaves a closed channel and an unencodable message to amqplib (it publishes nothing itself)', async () => {
    const { channel, chunks } = await recordingChannel()
    const write = frameWriter(channel)!
    expect(write('', 'q'.repeat(256), Buffer.from('x'), {}, () => {})).toBeUndefined()
    expect(chunks).toEqual([])
    await channel.close()
    expect(write('', 'anything', Buffer.from('x'), {}, () => {})).toBeUndefined()
    expect(() => channel.publish('', 'anything', Buffer.from('x'), {}, () => {})).toThrow(/closed/i)
  })

  it('is not installed on a channel of another shape', () => {
    expect(frameWriter({} as ConfirmChannel)).toBeUndefined()
  })
})
