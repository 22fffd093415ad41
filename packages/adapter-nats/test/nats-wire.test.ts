import { outgoingMessage } from '@anymq/conformance'
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeHeaders } from '../src/nats-wire.js'

const message = (headers: Record<string, string>) => outgoingMessage({ headers })

const roundTrip = (headers: Record<string, string>) => decodeMessage(new Uint8Array(), encodeHeaders(message(headers)), 0, 0).message.headers

// Found by test/fuzz-messages.test.ts (seed 162026): a header name outside printable ASCII made the
// NATS client throw its own InvalidArgumentError out of send().
describe('nats wire headers', () => {
  it('carries header names NATS refuses (non-ASCII, control characters, colon, blank) unchanged', () => {
    const headers = { 'ünï😀': 'v1', ' :\t\u0000 \r%': 'v2', 'a:b': 'v3', 'plain-name': 'v4' }
    expect(roundTrip(headers)).toEqual(headers)
  })

  it('keeps a comma in a name apart from the list of encoded values', () => {
    const headers = { 'a,b': 'line\nbreak', a: ' padded ', b: 'x' }
    expect(roundTrip(headers)).toEqual(headers)
  })

  it('does not hand JetStream a user header it would act on (Nats-Expected-Stream)', () => {
    const encoded = encodeHeaders(message({ 'Nats-Expected-Stream': 'other' }))
    expect(encoded.has('Nats-Expected-Stream')).toBe(false)
    expect(roundTrip({ 'Nats-Expected-Stream': 'other' })).toEqual({ 'Nats-Expected-Stream': 'other' })
  })
})
