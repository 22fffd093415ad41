import { describe, expect, it } from 'vitest'
import type { DriverRecord } from '../src/kafka-driver.js'
import { fromRecord } from '../src/kafka-wire.js'

function record(headers: Record<string, string>): DriverRecord {
  return { topic: 'orders', partition: 2, offset: 41, key: undefined, value: new Uint8Array(), headers, timestamp: 1_700_000_000_000, raw: undefined }
}

describe('kafka wire format', () => {
  it('names a foreign record without an id, or with an empty one, by topic, partition and offset', () => {
    expect(fromRecord(record({})).id).toBe('orders-2-41')
    expect(fromRecord(record({ 'x-anymq-id': '' })).id).toBe('orders-2-41')
    expect(fromRecord(record({ 'x-anymq-id': 'm-1' })).id).toBe('m-1')
  })
})
