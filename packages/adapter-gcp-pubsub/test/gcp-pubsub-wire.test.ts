import { outgoingMessage } from '@anymq/conformance'
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage } from '../src/gcp-pubsub-wire.js'

const message = (headers: Record<string, string>) => outgoingMessage({ headers })

// Found by test/fuzz-messages.test.ts (seed 162026): a user header value over Pub/Sub's 1024-byte
// attribute limit was cut there, and the message arrived with a different header than was sent.
describe('pub/sub wire attributes', () => {
  it('keeps user headers Pub/Sub attributes cannot hold (long values, long names, goog…), each attribute within the limits', () => {
    const headers = { long: 'é'.repeat(3000), [`n${'x'.repeat(300)}`]: 'v', 'goog-name': 'v', '': 'empty name', short: 'kept as an attribute' }
    const { attributes } = encodeMessage(message(headers))
    expect(attributes.short).toBe('kept as an attribute')
    for (const [name, value] of Object.entries(attributes)) {
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(256)
      expect(Buffer.byteLength(value)).toBeLessThanOrEqual(1024)
      expect(name.startsWith('goog')).toBe(false)
    }
    expect(decodeMessage({ data: new Uint8Array(), attributes }, 0).message.headers).toEqual(headers)
  })

  it('still cuts anymq’s own long failure headers at 1024 bytes', () => {
    const { attributes } = encodeMessage(message({ 'x-anymq-error': 'e'.repeat(5000) }))
    expect(attributes['x-anymq-error']).toHaveLength(1024)
  })
})
