import { brokerUrl, uniqueName } from '@anymq/conformance'
import { type Anymq, connect } from '@anymq/core'
import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_KINESIS_URL')

async function streamExists(stream: string): Promise<boolean> {
  const target = new URL(url as string)
  // HTTP/1.1: the client's default HTTP/2 does not reach moto's plain http:// endpoint.
  const client = new KinesisClient({
    region: target.hostname,
    endpoint: target.searchParams.get('endpoint') ?? undefined,
    requestHandler: new NodeHttpHandler(),
  })
  try {
    await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))
    return true
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return false
    throw error
  } finally {
    client.destroy()
  }
}

describe.skipIf(!url)(`kinesis reply inboxes against the broker${!url ? ' (ANYMQ_KINESIS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  const open: Anymq[] = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
  })

  it('does not bring back the inbox stream of a requester that closed when its reply comes late', async () => {
    const server = await connect(`${url}&leaseMs=1500&pollMs=100`, { adapter })
    open.push(server)
    const name = uniqueName('late-reply')
    let inbox = ''
    let replied!: () => void
    const replying = new Promise<void>((resolve) => {
      replied = resolve
    })
    await server.responder<string, string>(name).serve(async (request, message) => {
      inbox = message.replyTo as string
      await new Promise((resolve) => setTimeout(resolve, 1500))
      setTimeout(replied, 1000) // time for the reply's put once the handler returns
      return request.toUpperCase()
    }).ready

    const client = await connect(`${url}&leaseMs=1500&pollMs=100`, { adapter })
    const request = client.requester<string, string>(name).request('hi', { timeoutMs: 20_000 })
    request.catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 500))
    await client.close() // deletes the inbox stream while the responder is still at work
    await expect(request).rejects.toThrow()
    await replying
    expect(inbox).toMatch(/^anymq-inbox-/)
    // Before the fix the reply created the stream again: two shards nobody reads or deletes.
    expect(await streamExists(inbox)).toBe(false)
  }, 60_000)

  it('still answers a requester on the same connection as its responder', async () => {
    const mq = await connect(`${url}&leaseMs=1500&pollMs=100`, { adapter })
    open.push(mq)
    const name = uniqueName('same-connection')
    await mq.responder<string, string>(name).serve((request) => request.toUpperCase()).ready
    await expect(mq.requester<string, string>(name).request('hi', { timeoutMs: 10_000 })).resolves.toBe('HI')
    await expect(mq.requester<string, string>(name).request('again', { timeoutMs: 10_000 })).resolves.toBe('AGAIN')
  }, 60_000)
})
