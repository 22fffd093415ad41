import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { brokerUrl, uniqueName } from '@anymq/conformance'
import { connect, PublishError } from '@anymq/core'
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')

/** An HTTP proxy in front of the emulator that counts the requests of each SQS action. */
async function startCountingProxy(target: URL): Promise<{ server: Server; port: number; count(action: string): number }> {
  const counts = new Map<string, number>()
  const server = createServer((incoming, outgoing) => {
    const action = String(incoming.headers['x-amz-target'] ?? '').replace('AmazonSQS.', '')
    counts.set(action, (counts.get(action) ?? 0) + 1)
    const forward = request({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(outgoing)
    })
    forward.on('error', () => outgoing.destroy())
    incoming.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, count: (action) => counts.get(action) ?? 0 }
}

describe.skipIf(!url)(`aws batch refusals${!url ? ' (ANYMQ_SQS_URL unset)' : ''}`, () => {
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  })

  it('a send the queue refuses as a whole (a message over its MaximumMessageSize) fails at once, not after retries', async () => {
    const endpoint = new URL(new URL(url as string).searchParams.get('endpoint') as string)
    const sqs = new SQSClient({ endpoint: endpoint.origin, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
    cleanups.push(async () => sqs.destroy())
    const name = uniqueName('small')
    await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { MaximumMessageSize: '1024' } }))
    const proxy = await startCountingProxy(endpoint)
    cleanups.push(() => new Promise((resolve) => proxy.server.close(resolve)))
    const relayed = new URL(url as string)
    relayed.searchParams.set('endpoint', `http://127.0.0.1:${proxy.port}`)
    const mq = await connect(relayed.toString(), { adapter })
    cleanups.push(() => mq.close())
    const queue = mq.queue<string>(name)
    cleanups.push(() => queue.delete())
    await queue.send('fits')
    const sentBefore = proxy.count('SendMessageBatch')
    const error = await queue.send('x'.repeat(2000)).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PublishError)
    expect((error as PublishError).isRetryable).toBe(false)
    expect((error as Error).message).toMatch(/InvalidParameterValue/)
    // Before, the batcher sent the refused request 5 times over about 3 s.
    expect(proxy.count('SendMessageBatch') - sentBefore).toBe(1)
  })
})
