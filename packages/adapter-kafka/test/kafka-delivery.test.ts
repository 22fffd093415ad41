import { describe, expect, it } from 'vitest'
import { type DeliveryHost, type Item, KafkaDelivery } from '../src/kafka-delivery.js'

const item = { message: { body: new Uint8Array(1) }, raw: undefined, tracker: undefined, offset: 7 } as unknown as Item

/** A host that records what the delivery told it. */
function recordingHost(): DeliveryHost & { calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    finish: (finished, settled) => void calls.push(`finish ${finished.offset} ${settled}`),
    giveBack: (given) => void calls.push(`giveBack ${given.offset}`),
    retry: async (retried) => void calls.push(`retry ${retried.offset}`),
  }
}

describe('kafka delivery', () => {
  it('settles synchronously through ackNow, once: a later ack, release or retry does nothing', async () => {
    const host = recordingHost()
    const delivery = new KafkaDelivery(host, item.message, item.raw, item.tracker, item.offset)
    expect(delivery.ackNow()).toBe(true)
    expect(host.calls).toEqual(['finish 7 true'])
    expect(delivery.ackNow()).toBe(true)
    await delivery.ack()
    await delivery.release()
    await delivery.retry({ delayMs: 10, headers: {} })
    expect(host.calls).toEqual(['finish 7 true'])
  })

  it('acks through the same path: ack settles once and ackNow afterwards does nothing more', async () => {
    const host = recordingHost()
    const delivery = new KafkaDelivery(host, item.message, item.raw, item.tracker, item.offset)
    await delivery.ack()
    expect(delivery.ackNow()).toBe(true)
    expect(host.calls).toEqual(['finish 7 true'])
  })

  it('releases unsettled and hands the record back; an ackNow after it does not settle it', async () => {
    const host = recordingHost()
    const delivery = new KafkaDelivery(host, item.message, item.raw, item.tracker, item.offset)
    await delivery.release()
    delivery.ackNow()
    expect(host.calls).toEqual(['finish 7 false', 'giveBack 7'])
  })
})
