import { AnymqError, type ConnectionState } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { Collector, type Harness, uniqueName } from '../harness.js'

export function recoveryCases(h: Harness): void {
  // A broker without persistence has nothing to prove across a restart.
  if (!h.capabilities.persistence) return
  describe('recovery', () => {
    const restart = h.target.hooks?.restartBroker
    if (!restart) {
      it('needs the restartBroker hook to prove no loss across a broker restart', () => {
        throw new Error(
          `${h.target.name} declares persistence but its conformance target has no hooks.restartBroker; add one (scripts/brokers.sh restart <broker>)`,
        )
      })
      return
    }
    it('loses nothing confirmed across a broker restart, and consumers resume by themselves', async () => {
      const [producer, consumer] = [await h.connect(), await h.connect()]
      const states: ConnectionState[] = []
      producer.onConnectionState((event) => states.push(event.state))
      const name = uniqueName('restart')
      const seen = new Collector<number>()
      const errors: Error[] = []
      await consumer.queue<number>(name, h.target.queueOptions).consume(seen.handler, {
        concurrency: 4,
        onError: (error) => errors.push(error),
      }).ready
      const queue = producer.queue<number>(name, h.target.queueOptions)
      await queue.sendBatch(Array.from({ length: 100 }, (_, index) => index))
      await seen.waitForCount(100, h.ms(30_000))
      await restart()
      for (let index = 100; index < 200; index++) {
        for (let tries = 0; ; tries++) {
          try {
            await queue.send(index)
            break
          } catch (error) {
            // A send during reconnection may fail with a retryable error; a user retries it.
            if (!(AnymqError.isInstance(error) && error.isRetryable) || tries > 50) throw error
            await new Promise((resolve) => setTimeout(resolve, 200))
          }
        }
      }
      await seen.waitForDistinct(200, h.ms(90_000))
      expect(seen.distinct).toBe(200)
      expect(producer.health().state).toBe('connected')
      if (h.target.observesReconnects === false) return
      // The producer saw the outage and its end, and a readiness probe would say so.
      expect(states).toContain('reconnecting')
      expect(states.at(-1)).toBe('connected')
      const health = producer.health()
      expect(health).toMatchObject({ ready: true, state: 'connected' })
      expect(health.reconnects).toBeGreaterThanOrEqual(1)
      expect(health.lastError?.message).toEqual(expect.any(String))
    })

    it('keeps unconsumed messages across a broker restart', async () => {
      const producer = await h.connect()
      const name = uniqueName('restart-stored')
      const queue = producer.queue<number>(name, h.target.queueOptions)
      await queue.consume(() => {}).ready.then(() => undefined)
      await producer.close()
      const writer = await h.connect()
      await writer.queue<number>(name, h.target.queueOptions).sendBatch(Array.from({ length: 50 }, (_, index) => index))
      await writer.close()
      await restart()
      const reader = await h.connect()
      const seen = new Collector<number>()
      await reader.queue<number>(name, h.target.queueOptions).consume(seen.handler).ready
      await seen.waitForDistinct(50, h.ms(60_000))
      expect(seen.distinct).toBe(50)
    })
  })
}
