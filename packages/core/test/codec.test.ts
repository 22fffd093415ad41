import { describe, expect, it } from 'vitest'
import { jsonCodec, rawCodec, textCodec } from '../src/codec.js'
import { SerializationError } from '../src/errors.js'

describe('codecs', () => {
  it('refuses what JSON cannot carry with SerializationError', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => jsonCodec.encode(cyclic)).toThrow(SerializationError)
    expect(() => jsonCodec.encode(undefined)).toThrow(/cannot encode undefined/)
    expect(() => jsonCodec.encode(10n)).toThrow(SerializationError)
    expect(() => jsonCodec.decode(new TextEncoder().encode('{oops'))).toThrow(/not valid UTF-8 JSON/)
  })

  it('copies raw bytes and checks types', () => {
    const source = new Uint8Array([1, 2, 3])
    const encoded = rawCodec.encode(source)
    source[0] = 9
    expect([...encoded]).toEqual([1, 2, 3])
    expect(() => rawCodec.encode('text' as never)).toThrow(/takes a Uint8Array or Buffer, got a string/)
    expect(() => textCodec.encode(5 as never)).toThrow(/takes a string, got a number/)
    expect(() => textCodec.decode(new Uint8Array([0xff, 0xfe]))).toThrow(/not valid UTF-8/)
  })
})
