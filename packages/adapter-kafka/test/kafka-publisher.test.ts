import { describe, expect, it } from 'vitest'
import type { DriverOutgoingRecord, KafkaDriver } from '../src/kafka-driver.js'
import { KafkaPublisher, maxRequestBytes, type TopicRecords } from '../src/kafka-publisher.js'

type Sent = { batches: Array<{ topic: string; records: DriverOutgoingRecord[] }>; forget: string[] }

/** A driver whose sends complete when the test says so, and can be made to fail. */
function fakeDriver() {
  const sent: Sent[] = []
  const pending: Array<{ resolve(): void; reject(error: Error): void }> = []
  const driver = {
    send(batches: Sent['batches'], options: { forget: string[] }) {
      sent.push({ batches: batches.map((batch) => ({ topic: batch.topic, records: [...batch.records] })), forget: options.forget })
      return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }))
    },
  } as unknown as KafkaDriver
  return { driver, sent, pending }
}

function records(topic: string, count: number, from = 0, bytes = 10): TopicRecords[] {
  const list = Array.from({ length: count }, (_, index) => ({
    key: undefined,
    value: new Uint8Array(bytes),
    headers: { 'x-anymq-id': `${topic}-${from + index}` },
    timestamp: 1,
  }))
  return [{ topic, records: list }]
}

const ids = (sent: Sent) => sent.batches.map((batch) => `${batch.topic}:${batch.records.map((record) => record.headers['x-anymq-id']).join(',')}`)

async function turn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
}

describe('kafka publisher', () => {
  it('sends the first publish at once and everything published meanwhile together, in order, grouped by topic', async () => {
    const { driver, sent, pending } = fakeDriver()
    const publisher = new KafkaPublisher(driver)
    const settled: string[] = []
    const first = publisher.publish(records('a', 2)).then(() => settled.push('first'))
    const secondRecords = [...records('a', 1, 2), ...records('b', 1)]
    const second = publisher.publish(secondRecords).then(() => settled.push('second'))
    const third = publisher.publish(records('a', 1, 3), { forget: true }).then(() => settled.push('third'))
    await turn()
    expect(sent.map(ids)).toEqual([['a:a-0,a-1']])
    pending[0]?.resolve()
    await turn()
    expect(settled).toEqual(['first'])
    expect(sent.map(ids)[1]).toEqual(['a:a-2,a-3', 'b:b-0'])
    expect(sent[1]?.forget).toEqual(['a'])
    // Merged into a copy: the caller's list is as it was.
    expect(secondRecords[0]?.records.map((record) => record.headers['x-anymq-id'])).toEqual(['a-2'])
    pending[1]?.resolve()
    await Promise.all([first, second, third])
    expect(settled).toEqual(['first', 'second', 'third'])
  })

  it('splits a publish larger than one request and resolves it only when every request was acknowledged', async () => {
    const { driver, sent, pending } = fakeDriver()
    const publisher = new KafkaPublisher(driver)
    const size = 100 * 1024
    const count = Math.ceil((2.5 * maxRequestBytes) / size)
    let done = false
    const publishing = publisher.publish(records('big', count, 0, size)).then(() => {
      done = true
    })
    for (let request = 0; request < 3; request++) {
      await turn()
      expect(sent).toHaveLength(request + 1)
      expect(done).toBe(false)
      pending[request]?.resolve()
    }
    await publishing
    const total = sent.reduce((sum, request) => sum + (request.batches[0]?.records.length ?? 0), 0)
    expect(total).toBe(count)
    for (const request of sent) expect((request.batches[0]?.records.length ?? 0) * size).toBeLessThanOrEqual(maxRequestBytes)
  })

  it('splits a publish of several topics into requests that each fit, keeping every record once and in order', async () => {
    const { driver, sent, pending } = fakeDriver()
    const publisher = new KafkaPublisher(driver)
    const size = 100 * 1024
    const perTopic = Math.ceil((0.7 * maxRequestBytes) / size)
    const publishing = publisher.publish([...records('x', perTopic, 0, size), ...records('y', perTopic, 0, size), ...records('z', 0)])
    for (let request = 0; request < 2; request++) {
      await turn()
      expect(sent).toHaveLength(request + 1)
      pending[request]?.resolve()
    }
    await publishing
    const seen = sent.flatMap((request) => request.batches.flatMap((batch) => batch.records.map((record) => record.headers['x-anymq-id'])))
    const expected = [...Array.from({ length: perTopic }, (_, index) => `x-${index}`), ...Array.from({ length: perTopic }, (_, index) => `y-${index}`)]
    expect(seen).toEqual(expected)
    for (const request of sent) {
      const bytes = request.batches.reduce((sum, batch) => sum + batch.records.length * size, 0)
      expect(bytes).toBeLessThanOrEqual(maxRequestBytes)
      for (const batch of request.batches) expect(batch.records.length).toBeGreaterThan(0)
    }
  })

  it('rejects every publish of a failed request, once, and carries on with the next', async () => {
    const { driver, sent, pending } = fakeDriver()
    const publisher = new KafkaPublisher(driver)
    const first = publisher.publish(records('a', 1))
    await turn()
    const second = publisher.publish(records('a', 1, 1))
    const third = publisher.publish(records('a', 1, 2))
    pending[0]?.resolve()
    await first
    await turn()
    pending[1]?.reject(new Error('broker said no'))
    await expect(second).rejects.toThrow(/broker said no/)
    await expect(third).rejects.toThrow(/broker said no/)
    const fourth = publisher.publish(records('a', 1, 3))
    await turn()
    expect(sent.map(ids)[2]).toEqual(['a:a-3'])
    pending[2]?.resolve()
    await fourth
    await publisher.flush()
  })
})
