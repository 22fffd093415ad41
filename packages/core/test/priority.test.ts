import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import type { Capabilities } from '../src/index.js'
import { ConfigError, connect, describeCapability, UnsupportedFeatureError } from '../src/index.js'
import type { AdapterFactory, Destination, OutgoingMessage } from '../src/spi/index.js'

/** memory:// with other priority capabilities, recording what reaches the transport. */
function recording(capabilities: Partial<Capabilities>): { adapter: AdapterFactory; published: Array<{ destination: Destination; message: OutgoingMessage }> } {
  const published: Array<{ destination: Destination; message: OutgoingMessage }> = []
  const merged = { ...memory.capabilities, ...capabilities }
  return {
    published,
    adapter: {
      ...memory,
      capabilities: merged,
      connect: async (url, context) => {
        const transport = await memory.connect(url, context)
        const publish = transport.publish.bind(transport)
        return Object.assign(transport, {
          capabilities: merged,
          // Every send through `publish`, where it is recorded (memory would otherwise store it with `publishNow`).
          publishNow: undefined,
          publish: (destination: Destination, messages: readonly OutgoingMessage[], signal?: AbortSignal) => {
            for (const message of messages) published.push({ destination, message })
            return publish(destination, messages, signal)
          },
        })
      },
    },
  }
}

describe('priority queues in core', () => {
  it("with priorityQueues 'declared', refuses a priority on a queue made without maxPriority, before anything is sent", async () => {
    const { adapter, published } = recording({ priority: true, priorityQueues: 'declared' })
    const mq = await connect('memory://core-priority-declared', { adapter })
    const error = await mq
      .queue('plain')
      .send('x', { priority: 5 })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UnsupportedFeatureError)
    expect((error as Error).message).toContain("message priority on queue 'plain', which was not made with maxPriority")
    expect((error as Error).message).toContain('mq.queue(name, { maxPriority: 9 })')
    expect(published).toEqual([])
    await mq.queue('plain').send('no priority is fine')
    expect(published).toHaveLength(1)
    await mq.close()
  })

  it('caps a priority at the queue’s maxPriority and hands maxPriority to the adapter in the queue spec', async () => {
    const { adapter, published } = recording({ priority: true, priorityQueues: 'declared' })
    const mq = await connect('memory://core-priority-cap', { adapter })
    const queue = mq.queue('jobs', { maxPriority: 3 })
    await queue.send('above', { priority: 9 })
    await queue.send('below', { priority: 2 })
    await queue.send('none')
    expect(published.map(({ message }) => message.priority)).toEqual([3, 2, undefined])
    expect(published.map(({ destination }) => (destination.kind === 'queue' ? destination.queue.maxPriority : 'not a queue'))).toEqual([3, 3, 3])
    await mq.close()
  })

  it('refuses maxPriority where the adapter has no priority, and checks its range', async () => {
    const { adapter } = recording({ priority: false })
    const mq = await connect('memory://core-priority-none', { adapter })
    expect(() => mq.queue('jobs', { maxPriority: 9 })).toThrow(UnsupportedFeatureError)
    await expect(mq.queue('jobs').send('x', { priority: 1 })).rejects.toBeInstanceOf(UnsupportedFeatureError)
    await mq.close()
    const withPriority = await connect('memory://core-priority-range', { adapter: memory })
    for (const bad of [0, 10, 2.5, '9']) {
      const error = (() => {
        try {
          withPriority.queue('jobs', { maxPriority: bad as number })
        } catch (caught) {
          return caught
        }
      })()
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).problems.map((problem) => problem.field)).toEqual(["queue('jobs') options.maxPriority"])
    }
    await withPriority.close()
  })

  it('describes the priority capability for the capability tables', () => {
    const base = memory.capabilities
    expect(describeCapability({ ...base, priority: false }, 'priority')).toBe('no')
    expect(describeCapability({ ...base, priority: true }, 'priority')).toBe('yes')
    expect(describeCapability({ ...base, priority: true, priorityQueues: 'any' }, 'priority')).toBe('yes')
    expect(describeCapability({ ...base, priority: true, priorityQueues: 'declared' }, 'priority')).toBe('queues with maxPriority')
  })
})
