import type { OutgoingMessage } from '@anymq/core/spi'
import { describe, expect, it } from 'vitest'
import { delayedMember, entryFields, memberFields, packedProperties, readEntry } from '../src/redis-wire.js'

const message: OutgoingMessage = {
  id: 'm-1',
  body: Buffer.from('{"order":1}'),
  contentType: 'application/json',
  headers: { tenant: 'acme', 'x-anymq-attempt': '3' },
  key: 'customer-1',
  correlationId: 'corr-1',
  replyTo: 'inbox-1',
  subject: 'orders.eu',
  timestamp: 1_700_000_000_123,
  delayMs: 0,
  priority: undefined,
} as unknown as OutgoingMessage

/** What a handler sees of an entry, in either layout. */
function seen(pairs: Array<string | Buffer>, deliveries = 1) {
  const { message: read, entry } = readEntry('orders', ['1700000000000-1', pairs], deliveries)
  return { ...read, body: Buffer.from(read.body).toString(), group: entry.group }
}

describe('redis wire format', () => {
  it('writes the anymq field exactly as JSON.stringify would, whatever the text holds', () => {
    const texts = [
      'plain-1',
      '',
      'quote " inside',
      'back\\slash',
      'line\nbreak\ttab\u0000nul',
      'délai €',
      'emoji 🙂',
      'lone \ud800 surrogate',
      '\u007f del',
      '</script>',
    ]
    for (const text of texts) {
      for (const group of [undefined, text]) {
        const written: OutgoingMessage = {
          ...message,
          id: text,
          contentType: text,
          key: text,
          correlationId: text,
          replyTo: text,
          subject: text,
          headers: { [text]: text },
        }
        const expected = JSON.stringify({
          id: text,
          contentType: text,
          timestamp: message.timestamp,
          key: text,
          correlationId: text,
          replyTo: text,
          subject: text,
          group,
          headers: { [text]: text },
        })
        expect(packedProperties(written, group)).toBe(expected)
      }
    }
    const bare: OutgoingMessage = {
      ...message,
      key: undefined,
      correlationId: undefined,
      replyTo: undefined,
      subject: undefined,
      headers: {},
      timestamp: Number.NaN,
    }
    expect(packedProperties(bare, undefined)).toBe(JSON.stringify({ id: 'm-1', contentType: 'application/json', timestamp: Number.NaN }))
  })

  it('names a foreign entry without an id, or with an empty one, by its entry id', () => {
    expect(readEntry('orders', ['1700000000000-3', ['body', 'x']], 1).message.id).toBe('1700000000000-3')
    expect(readEntry('orders', ['1700000000000-3', ['id', '', 'body', 'x']], 1).message.id).toBe('1700000000000-3')
    expect(readEntry('orders', ['1700000000000-3', ['id', 'm-1', 'body', 'x']], 1).message.id).toBe('m-1')
  })

  it('writes two fields in the packed layout and one per property in the fields layout; both read back the same message', () => {
    const packed = entryFields([] as Array<string | Buffer | number>, message, 'billing')
    expect(packed.filter((_, index) => index % 2 === 0)).toEqual(['body', 'anymq'])
    const separate = entryFields([] as Array<string | Buffer | number>, message, 'billing', 'fields')
    expect(separate.filter((_, index) => index % 2 === 0)).toEqual([
      'id',
      'body',
      'content-type',
      'timestamp',
      'key',
      'correlation-id',
      'reply-to',
      'subject',
      'group',
      'h:tenant',
      'h:x-anymq-attempt',
    ])
    const expected = {
      id: 'm-1',
      body: '{"order":1}',
      contentType: 'application/json',
      headers: { tenant: 'acme', 'x-anymq-attempt': '3' },
      key: 'customer-1',
      correlationId: 'corr-1',
      replyTo: 'inbox-1',
      subject: 'orders.eu',
      timestamp: 1_700_000_000_123,
      attempt: 4,
      group: 'billing',
    }
    expect(seen(packed as Array<string | Buffer>, 2)).toEqual(expected)
    expect(seen(separate as Array<string | Buffer>, 2)).toEqual(expected)
    // As the drivers hand them over for a binary read: every part a Buffer.
    expect(
      seen(
        packed.map((part) => Buffer.from(part as string | Buffer)),
        2,
      ),
    ).toEqual(expected)
  })

  it('leaves out what a message does not have: no headers object, no optional properties', () => {
    const bare = { ...message, headers: {}, key: undefined, correlationId: undefined, replyTo: undefined, subject: undefined } as OutgoingMessage
    const packed = entryFields([] as Array<string | Buffer | number>, bare)
    expect(JSON.parse(packed[3] as string)).toEqual({ id: 'm-1', contentType: 'application/json', timestamp: 1_700_000_000_123 })
  })

  it('reads a foreign anymq field that is not a JSON object as a header, and ignores properties of the wrong type', () => {
    expect(seen(['body', 'x', 'anymq', 'not json'])).toMatchObject({
      id: '1700000000000-1',
      headers: { anymq: 'not json' },
      contentType: 'application/octet-stream',
    })
    expect(seen(['body', 'x', 'anymq', '[1,2]']).headers).toEqual({ anymq: '[1,2]' })
    const odd = seen(['body', 'x', 'anymq', '{"id":7,"timestamp":"soon","headers":{"a":"b","n":1},"key":"k"}'])
    expect(odd).toMatchObject({ id: '1700000000000-1', timestamp: 1_700_000_000_000, headers: { a: 'b' }, key: 'k', attempt: 1 })
  })

  it('keeps a delayed member in the layout it was written in', () => {
    for (const layout of ['packed', 'fields'] as const) {
      const pairs = memberFields(delayedMember(message, undefined, undefined, layout))
      expect(seen(pairs).id).toBe('m-1')
      expect(pairs.length).toBe(layout === 'packed' ? 4 : 20)
    }
  })

  it('reads field names given as bytes (a binary read), and copies the body unless asked to share it', () => {
    const written = entryFields([] as Array<string | Buffer>, message as OutgoingMessage)
      // Own bytes for each part, as a client's read gives.
      .map((part) => Buffer.concat([typeof part === 'string' ? Buffer.from(part) : part]))
    const copied = readEntry('orders', ['1700000000000-1', written], 1).message
    const shared = readEntry('orders', ['1700000000000-1', written], 1, true).message
    for (const read of [copied, shared]) {
      expect(read).toMatchObject({ id: 'm-1', contentType: 'application/json', key: 'customer-1', subject: 'orders.eu', timestamp: 1_700_000_000_123 })
      expect(read.headers).toEqual({ tenant: 'acme', 'x-anymq-attempt': '3' })
      expect(Buffer.from(read.body).toString()).toBe('{"order":1}')
    }
    // Writing into the client's bytes shows through the shared body only.
    const clientBytes = written[1] as Buffer
    clientBytes[2] = 0x4f
    expect(Buffer.from(copied.body).toString()).toBe('{"order":1}')
    expect(Buffer.from(shared.body).toString()).toBe('{"Order":1}')
    // A field that only starts like a known name is a header.
    expect(
      readEntry('orders', ['1700000000000-2', [Buffer.from('bodyx'), Buffer.from('v'), Buffer.from('body'), Buffer.from('x')]], 1).message.headers,
    ).toEqual({ bodyx: 'v' })
  })

  it('builds the raw entry’s field record when a handler asks for it', () => {
    const { entry } = readEntry('orders', ['1700000000000-1', ['body', 'x', 'tenant', 'acme']], 1)
    expect(Object.fromEntries(Object.entries(entry.fields).map(([name, value]) => [name, value.toString()]))).toEqual({ body: 'x', tenant: 'acme' })
  })
})
