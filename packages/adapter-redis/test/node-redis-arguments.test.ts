import { describe, expect, it } from 'vitest'
import { argumentsOf } from '../src/node-redis-arguments.js'

describe('node-redis command arguments', () => {
  it('hands a small UTF-8 body over as text that encodes to the same bytes', () => {
    const body = Buffer.from('{"city":"Zürich","note":"日本 🚀"}')
    const [, , value] = argumentsOf(['XADD', 'stream', body])
    expect(typeof value).toBe('string')
    expect(Buffer.from(value as string, 'utf8').equals(body)).toBe(true)
  })

  it('keeps bytes that are not valid UTF-8, and large bodies, as Buffers', () => {
    const binary = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0xc3])
    const large = Buffer.alloc(1024, 0x61)
    const [, first, second] = argumentsOf(['XADD', binary, large])
    expect(first).toBe(binary)
    expect(second).toBe(large)
  })

  it('writes numbers as their decimal text and leaves an all-text command as it is', () => {
    expect(argumentsOf(['PEXPIRE', 'key', 1500])).toEqual(['PEXPIRE', 'key', '1500'])
    const text = ['XACK', 'stream', 'group', '1-1']
    expect(argumentsOf(text)).toBe(text)
  })
})
