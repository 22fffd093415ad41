import type { BenchBody } from '@anymq/cli'
import {
  DeleteRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge'
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { BenchClient } from '../bench-client.js'
import { putRefusedAgain, splitAtLimits } from './aws-batch-calls.js'
import { pollQueue, sqsCleanup, sqsClientFor } from './sqs-raw-client.js'

const source = 'anymq.bench.raw'
const bus = 'default'
/** PutEvents' limits: 10 entries and 256 KiB per request. */
const maxEntries = 10
const maxRequestBytes = 256 * 1024
const maxPutAttempts = 5

/** `sqs://us-east-1?endpoint=…` → an EventBridge client on the same endpoint (credentials from the environment). */
function eventsClientFor(url: string): EventBridgeClient {
  const parsed = new URL(url)
  return new EventBridgeClient({ region: parsed.hostname || process.env.AWS_REGION || 'us-east-1', endpoint: parsed.searchParams.get('endpoint') ?? undefined })
}

/** An entry's size as EventBridge counts it: source, detail-type and detail in UTF-8, plus 14 bytes for its time. */
const entrySize = (entry: PutEventsRequestEntry) =>
  14 + Buffer.byteLength(entry.Source ?? '') + Buffer.byteLength(entry.DetailType ?? '') + Buffer.byteLength(entry.Detail ?? '')

/**
 * @aws-sdk/client-eventbridge + client-sqs as an experienced user would route one topic to one
 * subscriber, with anymq's guarantees: the topic's subscription is an SQS queue fed by a rule on the
 * default bus (pattern: this client's source and the topic as detail-type) with a queue policy that lets
 * the rule send; PutEvents of one entry per send, of ≤ 10 entries and ≤ 256 KiB per request for a batch
 * (entries a response failed are put again, up to 5 requests); the subscriber long-polls the queue as the
 * SQS raw client does (ReceiveMessage, handlers, DeleteMessageBatch) and reads the event's `detail`.
 * Request/reply is not a topic workload (see the `sqs` rows).
 */
export async function eventBridgeRawClient(url: string): Promise<BenchClient> {
  const events = eventsClientFor(url)
  const sqs = sqsClientFor(url)
  const subscriptions = new Map<string, Promise<string>>()
  /** The topic's subscription queue (and its rule), made once: resolves with the queue's URL. */
  const subscription = (topic: string): Promise<string> => {
    let found = subscriptions.get(topic)
    if (!found) {
      found = subscribe(events, sqs, topic)
      subscriptions.set(topic, found)
    }
    return found
  }
  const putEvents = (entries: PutEventsRequestEntry[]): Promise<void> =>
    putRefusedAgain(entries, maxPutAttempts, async (pending) => {
      const result = await events.send(new PutEventsCommand({ Entries: pending }))
      if (!result.FailedEntryCount) return []
      return pending.flatMap((_, index) => (result.Entries?.[index]?.ErrorCode ? [index] : []))
    })
  const entry = (topic: string, body: BenchBody): PutEventsRequestEntry => ({
    EventBusName: bus,
    Source: source,
    DetailType: topic,
    Detail: JSON.stringify(body),
  })
  const notTopicWork = () => Promise.reject(new Error('request/reply is not a topic workload: it runs over SQS queues (the sqs rows)'))
  return {
    side: 'raw',
    description:
      '@aws-sdk/client-eventbridge 3: PutEvents (1, or ≤ 10 entries / 256 KiB per request) to a rule targeting an SQS queue; long-poll ReceiveMessage, DeleteMessageBatch after handling',
    async prepare(topic, warmUp) {
      await subscription(topic)
      await putEvents([entry(topic, warmUp)])
    },
    async send(topic, body) {
      await putEvents([entry(topic, body)])
    },
    async sendBatch(topic, bodies) {
      await Promise.all(
        splitAtLimits(
          bodies.map((body) => entry(topic, body)),
          maxEntries,
          maxRequestBytes,
          entrySize,
        ).map(putEvents),
      )
    },
    async consume(topic, concurrency, handle) {
      // The rule delivers the whole event as the message body; the published body is its `detail`.
      return pollQueue(sqs, await subscription(topic), concurrency, (message) => handle((JSON.parse(message.Body ?? '{}') as { detail: BenchBody }).detail))
    },
    serve: notTopicWork,
    request: notTopicWork,
    async close() {
      events.destroy()
      sqs.destroy()
    },
  }
}

/** The subscription queue `<topic>-sub`, the rule `<topic>-rule` selecting the topic's events, the policy and the target. */
async function subscribe(events: EventBridgeClient, sqs: SQSClient, topic: string): Promise<string> {
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${topic}-sub` }))).QueueUrl as string
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn as string
  const rule = `${topic}-rule`
  const { RuleArn } = await events.send(
    new PutRuleCommand({ Name: rule, EventBusName: bus, EventPattern: JSON.stringify({ source: [source], 'detail-type': [topic] }), State: 'ENABLED' }),
  )
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': RuleArn } },
      },
    ],
  }
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: JSON.stringify(policy) } }))
  const targets = await events.send(new PutTargetsCommand({ Rule: rule, EventBusName: bus, Targets: [{ Id: 'queue', Arn: queueArn }] }))
  if (targets.FailedEntryCount) throw new Error(`PutTargets failed: ${targets.FailedEntries?.[0]?.ErrorMessage}`)
  return queueUrl
}

/** Deletes the rules (raw's and anymq's) and the queues whose names contain `marker`. */
export async function eventBridgeCleanup(url: string, marker: string): Promise<void> {
  const events = eventsClientFor(url)
  try {
    const rules: string[] = []
    let token: string | undefined
    do {
      const page = await events.send(new ListRulesCommand({ EventBusName: bus, NextToken: token }))
      rules.push(...(page.Rules ?? []).map((rule) => rule.Name as string).filter((name) => name.includes(marker)))
      token = page.NextToken
    } while (token)
    await Promise.all(
      rules.map(async (rule) => {
        const targets = await events.send(new ListTargetsByRuleCommand({ Rule: rule, EventBusName: bus }))
        const ids = (targets.Targets ?? []).map((target) => target.Id as string)
        if (ids.length > 0) await events.send(new RemoveTargetsCommand({ Rule: rule, EventBusName: bus, Ids: ids }))
        await events.send(new DeleteRuleCommand({ Name: rule, EventBusName: bus }))
      }),
    ).catch(() => {})
  } finally {
    events.destroy()
  }
  await sqsCleanup(url, marker)
}
