import { describe, expect, it } from 'vitest'
import { publishRequests, requestBytesOf } from '../src/gcp-pubsub-publish-requests.js'

const message = (bytes: number, seq: number) => ({ data: new Uint8Array(bytes), attributes: { seq: String(seq) }, orderingKey: '' })

describe('publishRequests', () => {
  it('cuts by size, in order, each request within the limit', () => {
    const messages = Array.from({ length: 100 }, (_, seq) => message(64 * 1024, seq))
    const requests = [...publishRequests(messages, 1_000_000)]
    expect(requests.length).toBeGreaterThan(1)
    expect(requests.flat()).toEqual(messages)
    for (const request of requests) expect(request.reduce((sum, item) => sum + requestBytesOf(item), 0)).toBeLessThanOrEqual(1_000_000)
  })

  it('cuts at 1000 messages however small they are', () => {
    const requests = [
      ...publishRequests(
        Array.from({ length: 2500 }, (_, seq) => message(1, seq)),
        10_000_000,
      ),
    ]
    expect(requests.map((request) => request.length)).toEqual([1000, 1000, 500])
  })

  it('gives a message larger than the limit a request of its own', () => {
    const requests = [...publishRequests([message(10, 0), message(2_000_000, 1), message(10, 2)], 1_000_000)]
    expect(requests.map((request) => request.map((item) => item.attributes.seq))).toEqual([['0'], ['1'], ['2']])
  })
})
