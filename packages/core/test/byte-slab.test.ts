import { describe, expect, it } from 'vitest'
import { copyBytes, copyToBuffer, utf8Bytes } from '../src/byte-slab.js'

describe('byte slab', () => {
  it('gives private copies that never overlap, across many slabs, small and large', () => {
    const copies: Uint8Array[] = []
    const sizes = [0, 1, 7, 100, 1024, 4096, 4097, 70_000]
    for (let index = 0; index < 600; index++) {
      const size = sizes[index % sizes.length] as number
      const source = new Uint8Array(size).fill(index % 251)
      // Every size both ways: copyBytes in even rounds over the sizes, copyToBuffer in odd ones.
      const copy = Math.floor(index / sizes.length) % 2 === 0 ? copyBytes(source) : copyToBuffer(source)
      source.fill(255)
      copies.push(copy)
    }
    copies.forEach((copy, index) => {
      expect(copy.byteLength).toBe(sizes[index % sizes.length])
      expect(copy.every((byte) => byte === index % 251)).toBe(true)
    })
    const large = sizes.indexOf(70_000)
    expect(copies[1]?.constructor).toBe(Uint8Array)
    expect(copies[large]?.constructor).toBe(Uint8Array)
    expect(copies[sizes.length + 1]).toBeInstanceOf(Buffer)
    expect(copies[sizes.length + large]).toBeInstanceOf(Buffer)
  })

  it('hands codecs real Buffers: Buffer methods, isBuffer, JSON form, and copies made from them are Buffers', () => {
    const bytes = utf8Bytes('héllo wörld')
    const copied = copyToBuffer(new Uint8Array([1, 2, 3, 4]))
    for (const buffer of [bytes, copied]) {
      expect(Buffer.isBuffer(buffer)).toBe(true)
      expect(buffer.constructor).toBe(Buffer)
      expect(buffer.subarray(1)).toBeInstanceOf(Buffer)
      expect(buffer.slice(1)).toBeInstanceOf(Buffer)
      expect(Buffer.concat([buffer, buffer]).byteLength).toBe(buffer.byteLength * 2)
      expect(buffer.equals(Buffer.from(buffer))).toBe(true)
    }
    expect(bytes.toString('utf8')).toBe('héllo wörld')
    expect(copied.readUInt16BE(1)).toBe(0x0203)
    expect(copied.toJSON()).toEqual({ type: 'Buffer', data: [1, 2, 3, 4] })
    expect(Array.from(copied.map((byte) => byte * 2))).toEqual([2, 4, 6, 8])
  })

  it('writes UTF-8 exactly, multi-byte and surrogate pairs included, and each string into its own bytes', () => {
    const texts = ['', 'plain', 'é', '日本語のテキスト', '😀 emoji', 'x'.repeat(1_365), 'é'.repeat(2_000), '€'.repeat(5_000)]
    const written = Array.from({ length: 300 }, (_, index) => texts[index % texts.length] as string).map((text) => ({ text, bytes: utf8Bytes(text) }))
    for (const { text, bytes } of written) {
      expect(bytes).toBeInstanceOf(Buffer)
      expect(bytes.toString('utf8')).toBe(text)
      expect(bytes.byteLength).toBe(Buffer.byteLength(text))
    }
  })
})
