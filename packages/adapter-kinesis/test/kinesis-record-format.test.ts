import { ConfigError } from '@anymq/core'
import type { OutgoingMessage } from '@anymq/core/spi'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/kinesis-config.js'
import { leaseTableName, streamName } from '../src/kinesis-names.js'
import { decodeRecord, encodeRecord } from '../src/kinesis-record-format.js'

const message: OutgoingMessage = {
  id: 'id-1',
  body: new Uint8Array([0, 1, 2, 255]),
  contentType: 'application/octet-stream',
  headers: { tenant: 'acme', 'x-anymq-attempt': '3' },
  key: 'customer-7',
  correlationId: 'c-1',
  replyTo: undefined,
  timestamp: 1_700_000_000_000,
  subject: 'orders.created',
  delayMs: 0,
  priority: undefined,
  dedupeId: undefined,
  attempt: 3,
}

describe('kinesis record format', () => {
  it('round-trips a message and its routing through the envelope', () => {
    const decoded = decodeRecord({ Data: encodeRecord(message, { group: 'billing', notBefore: 42 }), SequenceNumber: '7' })
    expect(decoded.routing).toEqual({ group: 'billing', notBefore: 42 })
    expect(decoded.message).toMatchObject({
      id: 'id-1',
      key: 'customer-7',
      correlationId: 'c-1',
      subject: 'orders.created',
      attempt: 3,
      timestamp: 1_700_000_000_000,
    })
    expect([...decoded.message.body]).toEqual([0, 1, 2, 255])
    expect(decoded.message.headers.tenant).toBe('acme')
  })

  it("reads another producer's record as a plain body keyed by its partition key", () => {
    const arrival = new Date(1_700_000_000_500)
    const decoded = decodeRecord({
      Data: new TextEncoder().encode('{"a":1}'),
      PartitionKey: 'k',
      SequenceNumber: '49590',
      ApproximateArrivalTimestamp: arrival,
    })
    expect(decoded.routing).toEqual({})
    expect(decoded.message).toMatchObject({ id: '49590', key: 'k', attempt: 1, timestamp: arrival.getTime(), headers: {} })
    expect(new TextDecoder().decode(decoded.message.body)).toBe('{"a":1}')
  })
})

describe('kinesis config', () => {
  it('reads region, endpoint and tuning from the URL', () => {
    const config = parseConfig(new URL('kinesis://eu-west-1?endpoint=http://127.0.0.1:4566&shards=4&leaseMs=2000&pollMs=50'), {})
    expect(config).toMatchObject({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566', shards: 4, leaseMs: 2000, pollMs: 50 })
  })

  it('reports every bad part of the URL at once, without the password', () => {
    let caught: unknown
    try {
      parseConfig(new URL('kinesis://user:s3cret-pass@nowhere/path?shards=0&endpoint=ftp://x&colour=red'), {})
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ConfigError)
    const text = (caught as Error).message
    for (const field of ['url ?shards', 'url ?endpoint', 'url ?colour', 'url host', 'url path', 'credentials do not belong']) expect(text).toContain(field)
    expect(text).not.toContain('s3cret-pass')
  })

  it('maps names that are not stream names to valid, distinct ones', () => {
    expect(streamName('orders.dlq')).toBe('orders.dlq')
    const odd = streamName('orders/eu west')
    expect(odd).toMatch(/^[A-Za-z0-9_.-]+$/)
    expect(odd).not.toBe(streamName('orders_eu_west'))
    expect(leaseTableName('orders', 'queue')).toBe('anymq-leases.orders.queue')
  })
})
