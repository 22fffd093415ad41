import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { connect } from '../src/index.js'
import type { AdapterFactory, TransportConsumer } from '../src/spi/index.js'

/** memory:// whose every transport consumer goes through `wrap` once `consume()` made it (to watch or slow its stop and close). */
function memoryWithConsumers(wrap: (consumer: TransportConsumer) => void): AdapterFactory {
  return {
    ...memory,
    async connect(url, context) {
      const transport = await memory.connect(url, context)
      const consume = transport.consume.bind(transport)
      transport.consume = async (source, options, deliver) => {
        // memory:// may deliver inside consume(), before its promise resolves.
        const consumer = await consume(source, options, deliver)
        wrap(consumer)
        return consumer
      }
      return transport
    },
  }
}

/** memory:// whose consumers' `stop()` waits until `stopGate.open()`, as a broker's stop waits on I/O. */
function slowStopping() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  const stopCalled = { value: false }
  const factory = memoryWithConsumers((consumer) => {
    const stop = consumer.stop.bind(consumer)
    consumer.stop = async () => {
      stopCalled.value = true
      await opened
      await stop()
    }
  })
  return { factory, stopGate: { open }, stopCalled }
}

describe('closing a consumer', () => {
  it('starts no held delivery once close() was called, though a running handler frees its slot while the adapter stops', async () => {
    const { factory, stopGate, stopCalled } = slowStopping()
    const mq = await connect('memory://close-holds', { adapter: factory })
    const queue = mq.queue<number>('q')
    await queue.sendBatch([1, 2, 3, 4])
    const started: number[] = []
    let finishFirst!: () => void
    const firstMayFinish = new Promise<void>((resolve) => {
      finishFirst = resolve
    })
    let firstStarted!: () => void
    const firstRunning = new Promise<void>((resolve) => {
      firstStarted = resolve
    })
    // One handler at a time, four messages fetched: three wait in core, held, when close() comes.
    const subscription = queue.consume(
      async (message) => {
        started.push(message.body)
        if (message.body === 1) {
          firstStarted()
          await firstMayFinish
        }
      },
      { concurrency: 1, prefetch: 4 },
    )
    await firstRunning
    await subscription.ready
    const closed = subscription.close()
    for (let turn = 0; !stopCalled.value; turn++) {
      if (turn > 1000) throw new Error(`close() did not stop the adapter's consumer; handlers started: ${started}`)
      await new Promise((resolve) => setImmediate(resolve))
    }
    // The handler ends (and is acked) while the adapter is still stopping: its slot is free.
    finishFirst()
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve))
    stopGate.open()
    await closed
    expect(started).toEqual([1])
    // The held ones went back to the queue, unhandled: a new consumer gets them.
    const again: number[] = []
    let gotAll!: () => void
    const all = new Promise<void>((resolve) => {
      gotAll = resolve
    })
    const second = queue.consume((message) => {
      again.push(message.body)
      if (again.length === 3) gotAll()
    })
    await all
    await second.close()
    expect(again.sort()).toEqual([2, 3, 4])
    await mq.close()
  })
})

describe('closing a consumer whose start is still under way', () => {
  it("stops the transport's consumer once it is there and closes it only after the handlers it started", async () => {
    const events: string[] = []
    const factory = memoryWithConsumers((consumer) => {
      const { stop, close } = { stop: consumer.stop.bind(consumer), close: consumer.close.bind(consumer) }
      consumer.stop = async () => {
        events.push('stop')
        await stop()
      }
      consumer.close = async () => {
        events.push('close')
        await close()
      }
    })
    const mq = await connect('memory://close-while-starting', { adapter: factory })
    const queue = mq.queue<number>('q')
    await queue.sendBatch([1, 2, 3])
    let finishFirst!: () => void
    const firstMayFinish = new Promise<void>((resolve) => {
      finishFirst = resolve
    })
    let closing: Promise<void> | undefined
    const subscription = queue.consume(
      async (message) => {
        events.push(`handle ${message.body}`)
        if (message.body !== 1) return
        // Closed on the next microtask: before the transport's consume() has resolved.
        queueMicrotask(() => {
          closing = subscription.close()
        })
        await firstMayFinish
        events.push('handled 1')
      },
      { concurrency: 1, prefetch: 3 },
    )
    for (let turn = 0; !events.includes('stop'); turn++) {
      if (turn > 1000) throw new Error(`the transport's consumer was never stopped: ${events}`)
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(events).toEqual(['handle 1', 'stop'])
    finishFirst()
    await closing
    for (let turn = 0; !events.includes('close'); turn++) {
      if (turn > 1000) throw new Error(`the transport's consumer was never closed: ${events}`)
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(events).toEqual(['handle 1', 'stop', 'handled 1', 'close'])
    // Message 1 was handled and acked: only the two never started come again.
    const again: number[] = []
    const second = queue.consume((message) => void again.push(message.body))
    for (let turn = 0; again.length < 2; turn++) {
      if (turn > 1000) throw new Error(`a new consumer got ${again}`)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await second.close()
    await mq.close()
    expect(again.sort()).toEqual([2, 3])
  })
})
