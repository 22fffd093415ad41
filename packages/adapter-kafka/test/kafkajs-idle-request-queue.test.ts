import { createRequire } from 'node:module'
import { brokerUrl, uniqueName } from '@anymq/conformance'
import { afterEach, describe, expect, it } from 'vitest'
import { connectTest } from './test-connections.js'

const url = brokerUrl('ANYMQ_KAFKA_URL')
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
  prototype: { checkPendingRequests(): void }
}
const check = RequestQueue.prototype.checkPendingRequests
let checks = 0
afterEach(() => {
  RequestQueue.prototype.checkPendingRequests = check
})

describe.skipIf(!url)('kafkajs request queues of an idle connection', () => {
  it('run no check timer while nothing waits (kafkajs re-armed one every 1 ms per broker connection)', async () => {
    RequestQueue.prototype.checkPendingRequests = function counted(this: unknown) {
      checks++
      return check.call(this)
    }
    const mq = await connectTest(`${url}${url?.includes('?') ? '&' : '?'}driver=kafkajs`)
    const queue = mq.queue(uniqueName('kafkajs-idle'))
    const received = new Promise<unknown>((resolve) => queue.consume(async (message) => resolve(message.body)))
    await queue.send({ n: 1 })
    expect(await received).toEqual({ n: 1 })

    checks = 0
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    // Fetch replies, heartbeats and commits still check the queue as they arrive: tens a second at most.
    // The 1 ms timer made it ~1,000 a second per connection (this consumer holds several).
    expect(checks).toBeLessThan(200)
  })
})
