import type { BenchBody } from '@anymq/cli'
import { connect, type Logger, type Queue, type Requester } from '@anymq/core'
import type { AdapterFactory } from '@anymq/core/spi'
import type { BenchClient, Running } from '../bench-client.js'

/** Warnings go to a list the harness prints after the run, so they do not tear the progress bar. */
export const anymqWarnings: string[] = []

/** Logs into {@link anymqWarnings}. */
export const logger: Logger = {
  debug() {},
  info() {},
  warn: (message) => void anymqWarnings.push(message),
  error: (message) => void anymqWarnings.push(message),
}

/**
 * The anymq side, the same for every broker: `queue.send`, `sendBatch`, `consume` with auto-ack,
 * `responder.serve` and `requester.request`, all with default options (retry policy, dead-letter
 * queue) as an application would use them.
 */
export async function anymqClient(url: string, adapter: AdapterFactory, description: string, options: { drainAfterRun?: boolean } = {}): Promise<BenchClient> {
  const mq = await connect(url, { adapter, logger })
  const queues = new Map<string, Queue<BenchBody>>()
  const requesters = new Map<string, Requester<BenchBody, BenchBody>>()
  const queue = (name: string): Queue<BenchBody> => {
    let found = queues.get(name)
    if (!found) {
      found = mq.queue<BenchBody>(name)
      queues.set(name, found)
    }
    return found
  }
  return {
    side: 'anymq',
    description,
    async prepare(name, warmUp) {
      await queue(name).send(warmUp)
    },
    async send(name, body) {
      await queue(name).send(body)
    },
    async sendBatch(name, bodies) {
      await queue(name).sendBatch(bodies)
    },
    async consume(name, concurrency, handle): Promise<Running> {
      const subscription = queue(name).consume((message) => handle(message.body), { concurrency, onError: (error) => logger.error(error.message) })
      await subscription.ready
      return subscription
    },
    async serve(name): Promise<Running> {
      const subscription = mq.responder<BenchBody, BenchBody>(name).serve((request) => request, { onError: (error) => logger.error(error.message) })
      await subscription.ready
      return subscription
    },
    request(name, body) {
      let requester = requesters.get(name)
      if (!requester) {
        requester = mq.requester<BenchBody, BenchBody>(name)
        requesters.set(name, requester)
      }
      return requester.request(body, { timeoutMs: 30_000 })
    },
    close: () => mq.close(),
    ...(options.drainAfterRun
      ? {
          async discard(name: string) {
            // memory:// keeps a queue's messages for the life of the process: take them off, then forget the handle.
            let taken = 0
            const subscription = queue(name).consume(
              () => {
                taken++
              },
              { concurrency: 256 },
            )
            await subscription.ready
            let seen = -1
            while (taken !== seen) {
              seen = taken
              await new Promise((resolve) => setTimeout(resolve, 20))
            }
            await subscription.close()
            queues.delete(name)
          },
        }
      : {}),
  }
}
