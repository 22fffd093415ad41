import type { BenchBody } from '@anymq/cli'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  ListQueuesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import type { BenchClient, Running } from '../bench-client.js'

const decode = (text: string | undefined): BenchBody => JSON.parse(text ?? 'null') as BenchBody

/** `sqs://us-east-1?endpoint=http://127.0.0.1:4566` → an SQS client (credentials from the environment). */
export function sqsClientFor(url: string): SQSClient {
  const parsed = new URL(url)
  return new SQSClient({ region: parsed.hostname || process.env.AWS_REGION || 'us-east-1', endpoint: parsed.searchParams.get('endpoint') ?? undefined })
}

/**
 * @aws-sdk/client-sqs as an experienced user would write it, with anymq's guarantees: SendMessage per
 * send, SendMessageBatch (10 entries, the API's limit) for batches; consumers long-poll ReceiveMessage
 * with up to 10 messages per poller (enough pollers for `concurrency`), run the handlers, then delete
 * what they handled with one DeleteMessageBatch. Request/reply: request queue plus a reply queue per
 * requester, correlation id in a message attribute.
 */
export async function sqsRawClient(url: string): Promise<BenchClient> {
  const sqs = sqsClientFor(url)
  const urls = new Map<string, string>()
  const queueUrl = async (name: string): Promise<string> => {
    let found = urls.get(name)
    if (!found) {
      found = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string
      urls.set(name, found)
    }
    return found
  }
  const sendBatch = async (name: string, bodies: BenchBody[]) => {
    const target = await queueUrl(name)
    const requests: Promise<unknown>[] = []
    for (let first = 0; first < bodies.length; first += 10) {
      const entries = bodies.slice(first, first + 10).map((body, index) => ({ Id: String(index), MessageBody: JSON.stringify(body) }))
      requests.push(
        sqs.send(new SendMessageBatchCommand({ QueueUrl: target, Entries: entries })).then((result) => {
          if (result.Failed && result.Failed.length > 0) throw new Error(`SendMessageBatch failed for ${result.Failed.length} entries`)
        }),
      )
    }
    await Promise.all(requests)
  }
  const startPollers = async (name: string, concurrency: number, handle: (message: Message) => Promise<void> | void): Promise<Running> =>
    pollQueue(sqs, await queueUrl(name), concurrency, handle)
  let replies: { name: string; waiting: Map<string, (body: BenchBody) => void>; pollers: Running } | undefined
  let nextCorrelation = 0
  let replyNumber = 0
  return {
    side: 'raw',
    description: '@aws-sdk/client-sqs 3: SendMessage / SendMessageBatch, long-poll ReceiveMessage, DeleteMessageBatch after handling',
    async prepare(name, warmUp) {
      await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrl(name), MessageBody: JSON.stringify(warmUp) }))
    },
    async send(name, body) {
      await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrl(name), MessageBody: JSON.stringify(body) }))
    },
    sendBatch,
    consume: (name, concurrency, handle) => startPollers(name, concurrency, (message) => handle(decode(message.Body))),
    serve: (name) =>
      startPollers(name, 1, async (message) => {
        const attributes = message.MessageAttributes ?? {}
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: await queueUrl(attributes.replyTo?.StringValue as string),
            MessageBody: message.Body,
            MessageAttributes: { correlationId: { DataType: 'String', StringValue: attributes.correlationId?.StringValue as string } },
          }),
        )
      }),
    async request(name, body) {
      if (replies && !replies.name.startsWith(`${name}-`)) {
        await replies.pollers.close()
        replies = undefined
      }
      if (!replies) {
        const replyName = `${name}-replies-${replyNumber++}`
        const waiting = new Map<string, (body: BenchBody) => void>()
        const pollers = await startPollers(replyName, 10, (message) => {
          const correlationId = message.MessageAttributes?.correlationId?.StringValue as string
          waiting.get(correlationId)?.(decode(message.Body))
          waiting.delete(correlationId)
        })
        replies = { name: replyName, waiting, pollers }
      }
      const inbox = replies
      const correlationId = String(nextCorrelation++)
      const reply = new Promise<BenchBody>((resolve) => inbox.waiting.set(correlationId, resolve))
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: await queueUrl(name),
          MessageBody: JSON.stringify(body),
          MessageAttributes: {
            correlationId: { DataType: 'String', StringValue: correlationId },
            replyTo: { DataType: 'String', StringValue: inbox.name },
          },
        }),
      )
      return reply
    },
    async close() {
      await replies?.pollers.close()
      sqs.destroy()
    },
  }
}

/**
 * Long-polls `target` with up to 10 messages per poller (enough pollers for `concurrency`), runs the
 * handlers, then deletes what they handled with one DeleteMessageBatch. Shared by the SQS and the
 * EventBridge raw clients (an EventBridge subscription is an SQS queue behind a rule).
 */
export function pollQueue(sqs: SQSClient, target: string, concurrency: number, handle: (message: Message) => Promise<void> | void): Running {
  let running = true
  const poll = async (size: number) => {
    while (running) {
      try {
        const result = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: target, MaxNumberOfMessages: size, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
        )
        const messages: Message[] = result.Messages ?? []
        if (messages.length === 0) continue
        await Promise.all(messages.map((message) => handle(message)))
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: target,
            Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
          }),
        )
      } catch (error) {
        // Stopped, or the queue is gone (deleted after its run): end quietly. Otherwise poll again, as a consumer would.
        if (!running || (error as { name?: string }).name === 'QueueDoesNotExist') return
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
  }
  const pollers = Array.from({ length: Math.ceil(concurrency / 10) }, (_, index) => poll(Math.min(10, concurrency - index * 10)))
  return {
    close: async () => {
      // No abort: a long poll ends within its 1 s wait, and an aborted request can take its socket with it.
      running = false
      await Promise.allSettled(pollers)
    },
  }
}

/** Deletes the queues whose names contain `marker`. */
export async function sqsCleanup(url: string, marker: string): Promise<void> {
  const sqs = sqsClientFor(url)
  try {
    let token: string | undefined
    const found: string[] = []
    do {
      const page = await sqs.send(new ListQueuesCommand({ MaxResults: 1000, NextToken: token }))
      found.push(...(page.QueueUrls ?? []).filter((queue) => queue.includes(marker)))
      token = page.NextToken
    } while (token)
    await Promise.all(found.map((queue) => sqs.send(new DeleteQueueCommand({ QueueUrl: queue })).catch(() => {})))
  } finally {
    sqs.destroy()
  }
}
