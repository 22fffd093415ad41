import { outgoingMessage } from '@anymq/conformance'
import type { OutgoingMessage } from '@anymq/core/spi'
import { describe, expect, it } from 'vitest'
import type { DriverRecord } from '../src/kafka-driver.js'
import { dueAtOf, fromRecord, kafkaHeaders, receivedRecord, receiveHeader, toRecord, valueBuffer } from '../src/kafka-wire.js'

function record(headers: Array<[string, string]>): DriverRecord {
  const received = receivedRecord('orders', 2, 41, undefined, new Uint8Array(), 1_700_000_000_000, undefined)
  for (const [name, value] of headers) receiveHeader(received, name, value)
  return received
}

describe('kafka wire format', () => {
  it('names a foreign record without an id, or with an empty one, by topic, partition and offset', () => {
    expect(fromRecord(record([])).id).toBe('orders-2-41')
    expect(fromRecord(record([['x-anymq-id', '']])).id).toBe('orders-2-41')
    expect(fromRecord(record([['x-anymq-id', 'm-1']])).id).toBe('m-1')
  })

  it("keeps anymq's own headers out of message.headers and reads each into its field; the first of two same-named headers wins", () => {
    const message = fromRecord(
      record([
        ['x-anymq-id', 'm-2'],
        ['tenant', 'acme'],
        ['x-anymq-content-type', 'application/json'],
        ['x-anymq-correlation-id', 'c-1'],
        ['x-anymq-reply-to', 'inbox'],
        ['x-anymq-subject', 'order.created'],
        ['x-anymq-attempt', '3'],
        ['x-anymq-id', 'm-other'],
        ['tenant', 'other'],
        ['constructor', 'kept'],
        ['x-anymq-custom', 'kept too'],
      ]),
    )
    expect(message).toMatchObject({ id: 'm-2', contentType: 'application/json', correlationId: 'c-1', replyTo: 'inbox', subject: 'order.created', attempt: 3 })
    expect(message.headers).toEqual({ tenant: 'acme', 'x-anymq-attempt': '3', constructor: 'kept', 'x-anymq-custom': 'kept too' })
  })

  it('gives records without user headers one shared read-only empty headers object, and each record with them its own', () => {
    const plain = record([['x-anymq-id', 'm-4']])
    const alsoPlain = record([['x-anymq-content-type', 'text/plain']])
    const withHeader = record([['tenant', 'acme']])
    expect(plain.headers).toEqual({})
    expect(Object.isFrozen(plain.headers)).toBe(true)
    expect(alsoPlain.headers).toBe(plain.headers)
    expect(withHeader.headers).toEqual({ tenant: 'acme' })
    expect(withHeader.headers).not.toBe(plain.headers)
    expect(record([]).headers).toEqual({})
  })

  it('writes the content type header with always; with unlessJson only when it is not application/json, or the id is empty', () => {
    const outgoing = (contentType: string): OutgoingMessage => outgoingMessage({ id: 'm-3', body: new Uint8Array(), contentType })
    expect(toRecord(outgoing('application/json'), 'always').headers).toEqual({ [kafkaHeaders.id]: 'm-3', [kafkaHeaders.contentType]: 'application/json' })
    expect(toRecord(outgoing('application/json'), 'unlessJson').headers).toEqual({ [kafkaHeaders.id]: 'm-3' })
    expect(toRecord(outgoing('text/plain; charset=utf-8'), 'unlessJson').headers).toEqual({
      [kafkaHeaders.id]: 'm-3',
      [kafkaHeaders.contentType]: 'text/plain; charset=utf-8',
    })
    // A record with an empty id reads as foreign, whose missing content type is octet-stream: it keeps the header.
    const emptyId = toRecord(outgoingMessage({ id: '', body: new Uint8Array(), contentType: 'application/json' }), 'unlessJson')
    expect(emptyId.headers).toEqual({ [kafkaHeaders.id]: '', [kafkaHeaders.contentType]: 'application/json' })
  })

  it('reads an anymq record without a content type as JSON, a foreign one (no id, or an empty one) as octet-stream', () => {
    expect(fromRecord(record([['x-anymq-id', 'm-4']])).contentType).toBe('application/json')
    expect(
      fromRecord(
        record([
          ['x-anymq-id', 'm-4'],
          ['x-anymq-content-type', 'application/octet-stream'],
        ]),
      ).contentType,
    ).toBe('application/octet-stream')
    expect(fromRecord(record([])).contentType).toBe('application/octet-stream')
    expect(fromRecord(record([['x-anymq-id', '']])).contentType).toBe('application/octet-stream')
  })

  it('completes the record itself into the message (no second object), and reading it twice gives the same message', () => {
    const foreign = record([])
    const message = fromRecord(foreign)
    expect(message).toBe(foreign)
    // Its id is now `topic-partition-offset`: a second read must still take it for a foreign record.
    expect(fromRecord(foreign)).toMatchObject({ id: 'orders-2-41', contentType: 'application/octet-stream', attempt: 1, timestamp: 1_700_000_000_000 })
    const retried = record([
      ['x-anymq-id', 'm-5'],
      ['x-anymq-attempt', '2'],
    ])
    expect(fromRecord(retried)).toBe(retried)
    expect(fromRecord(retried)).toMatchObject({ id: 'm-5', contentType: 'application/json', attempt: 2 })
  })

  it('reads the due time of a redelivery record, 0 when it has none', () => {
    expect(dueAtOf(record([['x-anymq-due-at', '1700000000123']]))).toBe(1_700_000_000_123)
    expect(dueAtOf(record([]))).toBe(0)
    expect(fromRecord(record([['x-anymq-due-at', '5']])).headers).toEqual({})
  })

  it('hands a Buffer value over as is, and wraps a plain Uint8Array without copying its bytes', () => {
    const buffer = Buffer.from('body')
    expect(valueBuffer(buffer)).toBe(buffer)
    const backing = new Uint8Array([1, 2, 3, 4, 5])
    const view = backing.subarray(1, 4)
    const wrapped = valueBuffer(view)
    expect(Buffer.isBuffer(wrapped)).toBe(true)
    expect([...wrapped]).toEqual([2, 3, 4])
    backing[2] = 9
    expect(wrapped[1]).toBe(9)
  })
})
