import { silentLogger } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { resolveSettings } from '../src/kafka-config.js'
import type { DriverOutgoingRecord } from '../src/kafka-driver.js'
import { KafkajsDriver } from '../src/kafkajs-driver.js'

/**
 * kafkajs rolls a failed request's sequence numbers back even when the broker wrote it, so the next
 * request of that producer can be taken for a duplicate and dropped (see `sendOnce`). The driver
 * sends on a new producer (a new producer id) after a failed send: checked here on a scripted
 * kafkajs producer; `pnpm chaos --ci kafka --driver kafkajs` shows what it prevents.
 */
describe('kafkajs driver, after a failed send', () => {
  it('sends the next request on a new producer and disconnects the one that failed', async () => {
    const driver = new KafkajsDriver(resolveSettings(new URL('kafka://127.0.0.1:1'), undefined, {}), silentLogger)
    const producers: Array<{ sent: number; disconnected: boolean }> = []
    let failures = 1
    const kafka = Reflect.get(driver, 'kafka') as { producer: () => unknown }
    kafka.producer = () => {
      const state = { sent: 0, disconnected: false }
      producers.push(state)
      return {
        connect: async () => {},
        sendBatch: async () => {
          state.sent++
          if (failures-- > 0) throw new Error('simulated: the connection closed before the answer came')
          return []
        },
        disconnect: async () => {
          state.disconnected = true
        },
      }
    }
    const record: DriverOutgoingRecord = { key: undefined, value: new Uint8Array(3), headers: { 'x-anymq-id': 'a' }, timestamp: 0 }
    await expect(driver.send([{ topic: 't', records: [record] }])).rejects.toThrow('simulated')
    await driver.send([{ topic: 't', records: [record] }])
    await driver.send([{ topic: 't', records: [record] }])
    expect(producers).toEqual([
      { sent: 1, disconnected: true },
      { sent: 2, disconnected: false },
    ])
    await driver.close()
    expect(producers[1]?.disconnected).toBe(true)
  })
})
