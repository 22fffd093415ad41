import type { AdapterFactory, Transport } from '@anymq/core/spi'
import { ConnectionError, PublishError } from '@anymq/core/spi'
import { adapter as memoryAdapter } from '@anymq/memory'

/**
 * The memory broker behind a switch, for the cases a real broker cannot be told to produce on demand:
 * `outage` makes every publish fail as an unreachable broker does (ConnectionError), and messages
 * with the header `refuse: yes` are refused (PublishError) while `refusing` is on. Used in addition to
 * the real-broker tests, never instead of them.
 */
export function flakyMemoryAdapter(): AdapterFactory & { state: { outage: boolean; refusing: boolean; publishCalls: number } } {
  const state = { outage: false, refusing: true, publishCalls: 0 }
  return {
    name: 'flaky-memory',
    schemes: ['memory'],
    capabilities: memoryAdapter.capabilities,
    state,
    async connect(url, context) {
      const inner = await memoryAdapter.connect(url, context)
      const transport: Transport = {
        capabilities: inner.capabilities,
        async publish(destination, messages, signal) {
          state.publishCalls++
          if (state.outage) throw new ConnectionError('broker unreachable (simulated outage)', { adapter: 'flaky-memory' })
          if (state.refusing && messages.some((message) => message.headers.refuse === 'yes'))
            throw new PublishError('the broker refused the message (simulated)', { adapter: 'flaky-memory' })
          return inner.publish(destination, messages, signal)
        },
        consume: (source, options, deliver) => inner.consume(source, options, deliver),
        openInbox: (options, deliver) => inner.openInbox(options, deliver),
        peek: (queue, limit) => inner.peek(queue, limit),
        move: (from, to, limit, prepare) => inner.move(from, to, limit, prepare),
        close: () => inner.close(),
        terminate: () => inner.terminate(),
      }
      return transport
    },
  }
}
