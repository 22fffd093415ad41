import { describe, expect, it } from 'vitest'
import { headerText } from '../src/kafka-header-text.js'
import { kafkaHeaders } from '../src/kafka-wire.js'

/** Bytes inside a larger buffer, as the client hands them over (a slice of the fetch response). */
function inside(text: string): Buffer {
  const bytes = Buffer.from(`>>${text}<<`)
  return bytes.subarray(2, bytes.length - 2)
}

describe('header text', () => {
  it("reads anymq's header names and common content types (matched against the known texts)", () => {
    expect(headerText(inside(kafkaHeaders.id))).toBe(kafkaHeaders.id)
    expect(headerText(inside(kafkaHeaders.contentType))).toBe(kafkaHeaders.contentType)
    expect(headerText(inside('application/json'))).toBe('application/json')
  })

  it('decodes anything else as UTF-8, also a text of the same length as a common one that differs in one byte', () => {
    expect(headerText(inside('x-anymq-ie'))).toBe('x-anymq-ie')
    expect(headerText(inside('y-anymq-id'))).toBe('y-anymq-id')
    expect(headerText(inside('tenant'))).toBe('tenant')
    expect(headerText(inside('grüße ✓'))).toBe('grüße ✓')
    expect(headerText(Buffer.alloc(0))).toBe('')
    expect(headerText(inside('0c7a2f1e-3b7c-4d1a-9e2f-123456789abc'))).toBe('0c7a2f1e-3b7c-4d1a-9e2f-123456789abc')
    expect(headerText(inside('a'.repeat(200)))).toBe('a'.repeat(200))
  })
})
