import { describe, expect, it } from 'vitest'
import { type CloudEvent, cloudEvents, SerializationError, ValidationError, validateCloudEvent } from '../src/index.js'
import type { CloudEventsHeaders } from '../src/spi/index.js'

const kafka: CloudEventsHeaders = { attributePrefix: 'ce_', contentTypeHeader: 'content-type' }
const amqp: CloudEventsHeaders = { attributePrefix: 'cloudEvents:', acceptedPrefixes: ['cloudEvents_'] }
const envelope = cloudEvents<unknown>().envelope!
const structured = cloudEvents<unknown>({ mode: 'structured' }).envelope!

function issuesOf(run: () => unknown): string[] {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return (error as ValidationError).issues.map((issue) => String(issue.path?.[0] ?? ''))
  }
  throw new Error('expected a ValidationError')
}

describe('CloudEvents validation', () => {
  it('accepts a complete event and names every problem of a broken one', () => {
    expect(() =>
      validateCloudEvent({ specversion: '1.0', id: '1', source: '/s', type: 't', time: '2026-01-01T00:00:00+02:00', count: 3, ok: true }, 'event'),
    ).not.toThrow()
    const issues = issuesOf(() =>
      validateCloudEvent({ specversion: '0.3', id: '', type: 7, time: '2026-01-01 00:00', dataschema: 'relative/path', 'my-ext': 'x', big: 2 ** 40 }, 'event'),
    )
    expect(issues.sort()).toEqual(['big', 'dataschema', 'id', 'my-ext', 'source', 'specversion', 'time', 'type'])
  })
})

describe('binary mode', () => {
  it('writes attributes under the adapter prefix and datacontenttype where its convention says', () => {
    const written = envelope.write({ id: 'e1', source: '/s', type: 't', tenant: 'acme', data: { a: 1 } } as CloudEvent, { cloudEvents: kafka, where: 'test' })
    expect(written.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: 'e1',
      ce_source: '/s',
      ce_type: 't',
      ce_tenant: 'acme',
      'content-type': 'application/json',
    })
    expect(written.contentType).toBe('application/json')
    expect(Buffer.from(written.body).toString()).toBe('{"a":1}')
    expect(written.id).toBe('e1')
  })

  it('reads the accepted prefixes ignoring case, text and bytes by their media type, and no data as undefined', () => {
    const text = envelope.read(
      {
        body: Buffer.from('héllo'),
        contentType: 'text/plain; charset=utf-8',
        headers: { cloudevents_specversion: '1.0', cloudEvents_id: 'x', cloudEvents_source: '/s', cloudEvents_type: 't' },
      },
      { cloudEvents: amqp, where: 'test' },
    ) as CloudEvent
    expect(text).toEqual({ specversion: '1.0', id: 'x', source: '/s', type: 't', datacontenttype: 'text/plain; charset=utf-8', data: 'héllo' })
    const bytes = envelope.read(
      {
        body: new Uint8Array([1, 2]),
        contentType: 'application/octet-stream',
        headers: { 'cloudEvents:specversion': '1.0', 'cloudEvents:id': 'x', 'cloudEvents:source': '/s', 'cloudEvents:type': 't' },
      },
      { cloudEvents: amqp, where: 'test' },
    ) as CloudEvent
    expect(bytes.data).toEqual(new Uint8Array([1, 2]))
    const empty = envelope.read(
      { body: new Uint8Array(0), contentType: 'application/json', headers: { ce_specversion: '1.0', ce_id: 'x', ce_source: '/s', ce_type: 't' } },
      { cloudEvents: kafka, where: 'test' },
    ) as CloudEvent
    expect('data' in empty).toBe(false)
  })

  it('refuses a message that is no CloudEvent, a batch, or JSON data that is not JSON', () => {
    expect(() =>
      envelope.read({ body: Buffer.from('{}'), contentType: 'application/json', headers: { tenant: 'x' } }, { cloudEvents: kafka, where: 'test' }),
    ).toThrow(ValidationError)
    expect(() =>
      envelope.read({ body: Buffer.from('[]'), contentType: 'application/cloudevents-batch+json', headers: {} }, { cloudEvents: kafka, where: 'test' }),
    ).toThrow(/batch/)
    expect(() =>
      envelope.read(
        { body: Buffer.from('{nope'), contentType: 'application/json', headers: { ce_specversion: '1.0', ce_id: 'x', ce_source: '/s', ce_type: 't' } },
        { cloudEvents: kafka, where: 'test' },
      ),
    ).toThrow(SerializationError)
  })
})

describe('structured mode', () => {
  it('writes the JSON event format (bytes as data_base64) and reads it back whatever the adapter prefix', () => {
    const written = structured.write(
      { id: 'e2', source: '/s', type: 't', datacontenttype: 'application/octet-stream', data: new Uint8Array([255, 0]) } as CloudEvent,
      {
        cloudEvents: kafka,
        where: 'test',
      },
    )
    expect(written.contentType).toBe('application/cloudevents+json; charset=utf-8')
    expect(written.headers).toEqual({ 'content-type': 'application/cloudevents+json; charset=utf-8' })
    expect(JSON.parse(Buffer.from(written.body).toString())).toEqual({
      specversion: '1.0',
      id: 'e2',
      source: '/s',
      type: 't',
      datacontenttype: 'application/octet-stream',
      data_base64: '/wA=',
    })
    const read = envelope.read({ ...written, contentType: 'application/octet-stream' }, { cloudEvents: kafka, where: 'test' }) as CloudEvent
    expect(read.data).toEqual(new Uint8Array([255, 0]))
  })

  it('fills in specversion and a random id, and refuses an invalid event before anything is written', () => {
    const written = structured.write({ source: '/s', type: 't' } as CloudEvent, { cloudEvents: kafka, where: 'test' })
    expect(written.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(issuesOf(() => structured.write({ source: '/s' } as CloudEvent, { cloudEvents: kafka, where: 'test' }))).toEqual(['type'])
  })
})
