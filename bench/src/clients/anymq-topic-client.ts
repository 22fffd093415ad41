import type { BenchBody } from '@anymq/cli'
import { connect, type Topic } from '@anymq/core'
import type { AdapterFactory } from '@anymq/core/spi'
import type { BenchClient, Running } from '../bench-client.js'
import { logger } from './anymq-client.js'

/** The one named subscription each bench topic gets. */
const subscriptionName = 'bench'

/**
 * The anymq side for a topic provider (EventBridge): the harness's queue is a topic with one named
 * subscription. `send` is `topic.publish`, `sendBatch` is `publishBatch`, `consume` is `subscribe` with
 * auto-ack, default options. `prepare` subscribes once and closes (a named subscription outlives its
 * consumer), so what is published before the consumer attaches waits in the subscription. Request/reply
 * is not a topic workload.
 */
export async function anymqTopicClient(url: string, adapter: AdapterFactory, description: string): Promise<BenchClient> {
  const mq = await connect(url, { adapter, logger })
  const topics = new Map<string, Topic<BenchBody>>()
  const topic = (name: string): Topic<BenchBody> => {
    let found = topics.get(name)
    if (!found) {
      found = mq.topic<BenchBody>(name)
      topics.set(name, found)
    }
    return found
  }
  const notTopicWork = () => Promise.reject(new Error('request/reply is not a topic workload: it runs over queues (the queue rows of this broker)'))
  return {
    side: 'anymq',
    description,
    async prepare(name, warmUp) {
      const subscription = topic(name).subscribe(subscriptionName, () => {})
      await subscription.ready
      await subscription.close()
      await topic(name).publish(warmUp)
    },
    async send(name, body) {
      await topic(name).publish(body)
    },
    async sendBatch(name, bodies) {
      await topic(name).publishBatch(bodies)
    },
    async consume(name, concurrency, handle): Promise<Running> {
      const subscription = topic(name).subscribe(subscriptionName, (message) => handle(message.body), {
        concurrency,
        onError: (error) => logger.error(error.message),
      })
      await subscription.ready
      return subscription
    },
    serve: notTopicWork,
    request: notTopicWork,
    close: () => mq.close(),
  }
}
