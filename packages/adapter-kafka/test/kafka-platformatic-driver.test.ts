import type { EventEmitter } from 'node:events'
import { silentLogger } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { resolveSettings } from '../src/kafka-config.js'
import { PlatformaticDriver } from '../src/kafka-platformatic-driver.js'

describe('@platformatic/kafka driver', () => {
  it("reports the client's 'error' event (a failed rejoin) to the consumer instead of throwing it out of the process", async () => {
    const driver = new PlatformaticDriver(resolveSettings(new URL('kafka://127.0.0.1:1'), undefined, {}), silentLogger)
    const crashes: Array<{ error: Error; restarting: boolean }> = []
    const consumer = driver.consumer({
      groupId: 'no-broker-needed',
      topics: ['t'],
      fromBeginning: true,
      onBatch: async () => {},
      onAssigned: () => {},
      onCommitted: () => {},
      onCrash: (error, restarting) => crashes.push({ error, restarting }),
    })
    // The library's own client, as its heartbeat emits the error after a rejoin failed.
    const client = Reflect.get(consumer, 'consumer') as EventEmitter
    expect(() => client.emit('error', new Error('Connection pool is closed.'))).not.toThrow()
    expect(crashes.map(({ error, restarting }) => [error.message, restarting])).toEqual([['Connection pool is closed.', true]])
    await consumer.stop()
    await driver.close()
  })
})
