import {
  type AdminTarget,
  type BrokerStats,
  type IncomingMessage,
  type ListedDestination,
  type QueueSpec,
  type Source,
  type TransportAdmin,
  UnsupportedFeatureError,
} from '@anymq/core/spi'
import {
  DeleteTopicCommand,
  ListSubscriptionsByTopicCommand,
  ListTagsForResourceCommand,
  ListTopicsCommand,
  type SNSClient,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns'
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  PurgeQueueCommand,
  type SQSClient,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs'
import { adapterName, errorCode, isQueueMissing, isTopicMissing, wrapError } from './aws-errors.js'
import { topicName } from './aws-names.js'
import { type AwsTopology, anymqTags, type QueueRef } from './aws-topology.js'
import { decodeMessage } from './aws-wire-format.js'

/** What the admin calls borrow from the transport. */
export interface AwsAdminContext {
  sqs: SQSClient
  sns: SNSClient
  topology: AwsTopology
  /** With `topics=eventbridge` a topic is no SNS topic: deleting or listing topics is not served. */
  eventBridge: boolean
  assertOpen(): void
  /** One ReceiveMessage with every attribute decodeMessage needs. */
  receive(url: string, count: number, visibilitySeconds: number, waitSeconds: number, name: string): Promise<SqsMessage[]>
}

/** How long takeById holds the messages it looked at (released as soon as it is done). */
const holdSeconds = 60
/** Tag lookups in flight at once while listing. */
const lookupsAtOnce = 8

/**
 * Stats, purge, delete, list and dead letters by id on SQS and SNS. Counts are SQS's approximate
 * attributes (`ApproximateNumberOfMessages…`); SQS does not tell consumers nor the oldest message's
 * age (that is CloudWatch's `ApproximateAgeOfOldestMessage`, on AWS only), so those are `undefined`.
 * `list()` reads the `anymq:*` tags every queue and topic is created with, because hashed SQS and SNS
 * names cannot be turned back into anymq names.
 */
export class AwsAdmin implements TransportAdmin {
  constructor(private readonly context: AwsAdminContext) {}

  async stats(source: Source): Promise<BrokerStats> {
    this.context.assertOpen()
    const ref = this.refOf(source)
    const url = await this.context.topology.findQueueUrl(ref.name)
    const none: BrokerStats = { ready: 0, inFlight: 0, consumers: undefined, oldestAgeMs: undefined }
    if (url === undefined) return none
    try {
      const result = await this.context.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      )
      const attributes = result.Attributes ?? {}
      return {
        ready: Number(attributes.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
        consumers: undefined,
        oldestAgeMs: undefined,
      }
    } catch (error) {
      if (!isQueueMissing(error)) throw wrapError(error, `reading the counts of queue '${ref.name}'`)
      this.context.topology.forget(ref.name)
      return none
    }
  }

  async purge(source: Source): Promise<void> {
    this.context.assertOpen()
    const ref = this.refOf(source)
    const url = await this.context.topology.findQueueUrl(ref.name)
    if (url === undefined) return
    try {
      await this.context.sqs.send(new PurgeQueueCommand({ QueueUrl: url }))
    } catch (error) {
      if (isQueueMissing(error)) return this.context.topology.forget(ref.name)
      if (/PurgeQueueInProgress/i.test(errorCode(error)))
        throw wrapError(error, `purging queue '${ref.name}' (SQS takes one PurgeQueue per queue every 60 seconds: try again after that)`)
      throw wrapError(error, `purging queue '${ref.name}'`)
    }
  }

  async remove(target: AdminTarget): Promise<void> {
    this.context.assertOpen()
    if (target.kind === 'topic') return this.removeTopic(target.topic)
    const ref = this.refOf(target)
    if (target.kind === 'subscription') {
      if (this.context.eventBridge) throw this.topicsUnserved('deleteSubscription()')
      await this.unsubscribeQueue(target.subscription.topic, ref)
    }
    await this.deleteQueue(ref.name)
  }

  async list(prefix: string): Promise<ListedDestination[]> {
    this.context.assertOpen()
    if (this.context.eventBridge) throw this.topicsUnserved('list()')
    const [queues, topics] = await Promise.all([this.listQueues(prefix), this.listTopics(prefix)])
    return [...queues, ...topics]
  }

  async takeById(queue: QueueSpec, id: string, handle: (message: IncomingMessage) => Promise<void>): Promise<boolean> {
    this.context.assertOpen()
    const ref = this.context.topology.queueRef(queue)
    const url = await this.context.topology.findQueueUrl(ref.name)
    if (url === undefined) return false
    // Every message looked at stays invisible to others until this call lets it go (at once, in finally).
    const held = new Map<string, SqsMessage>()
    let found: SqsMessage | undefined
    try {
      for (let round = 0; found === undefined; round++) {
        const messages = await this.context.receive(url, 10, holdSeconds, round === 0 ? 1 : 0, ref.name)
        const fresh = messages.filter((message) => message.MessageId !== undefined && message.ReceiptHandle !== undefined && !held.has(message.MessageId))
        if (fresh.length === 0) return false
        for (const message of fresh) {
          if (found === undefined && decodeMessage(message).id === id) found = message
          else held.set(message.MessageId as string, message)
        }
      }
      try {
        await handle(decodeMessage(found))
      } catch (error) {
        held.set(found.MessageId as string, found)
        throw error
      }
      try {
        await this.context.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: found.ReceiptHandle }))
      } catch (error) {
        throw wrapError(error, `deleting message '${id}' from queue '${ref.name}' after handling it (it reappears in ${holdSeconds} s)`)
      }
      return true
    } finally {
      await this.release(url, [...held.values()])
    }
  }

  private refOf(source: Source): QueueRef {
    return source.kind === 'queue' ? this.context.topology.queueRef(source.queue) : this.context.topology.subscriptionRef(source.subscription)
  }

  /** Gives the held messages back at once (visibility 0), ten per request. */
  private async release(url: string, messages: SqsMessage[]): Promise<void> {
    for (let start = 0; start < messages.length; start += 10) {
      const entries = messages
        .slice(start, start + 10)
        .map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }))
      // A message not released here only reappears when its visibility timeout passes: nothing is lost.
      await this.context.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: entries })).catch(() => {})
    }
  }

  private async deleteQueue(name: string): Promise<void> {
    const url = await this.context.topology.findQueueUrl(name)
    this.context.topology.forget(name)
    if (url === undefined) return
    try {
      await this.context.sqs.send(new DeleteQueueCommand({ QueueUrl: url }))
    } catch (error) {
      if (!isQueueMissing(error)) throw wrapError(error, `deleting queue '${name}'`)
    }
  }

  /** Unsubscribes the queue from its topic (SNS keeps a subscription whose queue is gone, and would keep sending to it). */
  private async unsubscribeQueue(topic: string, ref: QueueRef): Promise<void> {
    const topicArn = await this.findTopicArn(topic)
    if (topicArn === undefined) return
    for (const subscription of await this.subscriptionsOf(topicArn)) {
      if (queueNameOfArn(subscription.Endpoint) === ref.name) await this.unsubscribe(subscription.SubscriptionArn)
    }
  }

  /** Deletes the topic, its subscriptions, and the queues of its named subscriptions. */
  private async removeTopic(topic: string): Promise<void> {
    if (this.context.eventBridge) throw this.topicsUnserved('topic delete()')
    const topicArn = await this.findTopicArn(topic)
    this.context.topology.forgetTopic(topic)
    if (topicArn === undefined) return
    for (const subscription of await this.subscriptionsOf(topicArn)) {
      const queue = queueNameOfArn(subscription.Endpoint)
      if (queue !== undefined && (await this.isSubscriptionQueueOf(queue, topic))) await this.deleteQueue(queue)
      await this.unsubscribe(subscription.SubscriptionArn)
    }
    try {
      await this.context.sns.send(new DeleteTopicCommand({ TopicArn: topicArn }))
    } catch (error) {
      if (!isTopicMissing(error)) throw wrapError(error, `deleting SNS topic of '${topic}'`)
    }
  }

  private async isSubscriptionQueueOf(queue: string, topic: string): Promise<boolean> {
    const url = await this.context.topology.findQueueUrl(queue)
    if (url === undefined) return false
    const tags = await this.queueTags(url, queue)
    return tags?.[anymqTags.kind] === 'subscription' && tags[anymqTags.topic] === topic
  }

  private async unsubscribe(arn: string | undefined): Promise<void> {
    // A subscription still pending confirmation has no ARN to unsubscribe.
    if (arn === undefined || !arn.startsWith('arn:')) return
    try {
      await this.context.sns.send(new UnsubscribeCommand({ SubscriptionArn: arn }))
    } catch (error) {
      if (!isTopicMissing(error)) throw wrapError(error, `unsubscribing '${arn}'`)
    }
  }

  private async subscriptionsOf(topicArn: string): Promise<{ SubscriptionArn?: string; Endpoint?: string }[]> {
    const found: { SubscriptionArn?: string; Endpoint?: string }[] = []
    let token: string | undefined
    try {
      do {
        const page = await this.context.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }))
        found.push(...(page.Subscriptions ?? []).filter((subscription) => subscription.Protocol === 'sqs'))
        token = page.NextToken
      } while (token)
    } catch (error) {
      if (isTopicMissing(error)) return []
      throw wrapError(error, `listing the subscriptions of '${topicArn}'`)
    }
    return found
  }

  /** The ARN of the topic's SNS topic when it exists (never creates one). */
  private async findTopicArn(topic: string): Promise<string | undefined> {
    const name = topicName(topic)
    return (await this.topicArns()).find((arn) => arn.slice(arn.lastIndexOf(':') + 1) === name)
  }

  private async topicArns(): Promise<string[]> {
    const arns: string[] = []
    let token: string | undefined
    try {
      do {
        const page = await this.context.sns.send(new ListTopicsCommand({ NextToken: token }))
        for (const topic of page.Topics ?? []) if (topic.TopicArn) arns.push(topic.TopicArn)
        token = page.NextToken
      } while (token)
    } catch (error) {
      throw wrapError(error, 'listing SNS topics')
    }
    return arns
  }

  private async listQueues(prefix: string): Promise<ListedDestination[]> {
    const urls: string[] = []
    let token: string | undefined
    try {
      do {
        const page = await this.context.sqs.send(new ListQueuesCommand({ QueueNamePrefix: brokerPrefix(prefix), MaxResults: 1000, NextToken: token }))
        urls.push(...(page.QueueUrls ?? []))
        token = page.NextToken
      } while (token)
    } catch (error) {
      throw wrapError(error, `listing SQS queues starting with '${brokerPrefix(prefix)}'`)
    }
    const listed: ListedDestination[] = []
    await inBatches(urls, async (url) => {
      const name = url.slice(url.lastIndexOf('/') + 1)
      const tags = await this.queueTags(url, name)
      const kind = tags?.[anymqTags.kind]
      const anymqName = tags?.[anymqTags.name]
      if (anymqName === undefined) return
      if (kind === 'queue' && anymqName.startsWith(prefix)) listed.push({ kind: 'queue', name: anymqName })
      const topic = tags?.[anymqTags.topic]
      if (kind === 'subscription' && topic?.startsWith(prefix)) listed.push({ kind: 'subscription', name: anymqName, topic })
    })
    return listed
  }

  private async listTopics(prefix: string): Promise<ListedDestination[]> {
    const start = brokerPrefix(prefix)
    const arns = (await this.topicArns()).filter((arn) => arn.slice(arn.lastIndexOf(':') + 1).startsWith(start))
    const listed: ListedDestination[] = []
    await inBatches(arns, async (arn) => {
      let name: string | undefined
      try {
        const result = await this.context.sns.send(new ListTagsForResourceCommand({ ResourceArn: arn }))
        name = result.Tags?.find((tag) => tag.Key === anymqTags.name)?.Value
      } catch (error) {
        if (isTopicMissing(error)) return
        throw wrapError(error, `reading the tags of SNS topic '${arn}'`)
      }
      if (name?.startsWith(prefix)) listed.push({ kind: 'topic', name })
    })
    return listed
  }

  /** A queue's tags; `undefined` when it went away meanwhile. */
  private async queueTags(url: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      return (await this.context.sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {}
    } catch (error) {
      if (isQueueMissing(error)) return undefined
      throw wrapError(error, `reading the tags of queue '${name}'`)
    }
  }

  private topicsUnserved(call: string): UnsupportedFeatureError {
    return new UnsupportedFeatureError(adapterName, `${call} with topics=eventbridge`, 'delete the rules and queues in the EventBridge and SQS consoles')
  }
}

/**
 * The start every SQS or SNS name made from an anymq name beginning with `prefix` shares: characters
 * SQS refuses become `_` as in aws-names, and a long one is cut where a hashed name may already end.
 */
function brokerPrefix(prefix: string): string {
  return prefix.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)
}

function queueNameOfArn(arn: string | undefined): string | undefined {
  return arn?.startsWith('arn:') ? arn.slice(arn.lastIndexOf(':') + 1) : undefined
}

async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += lookupsAtOnce) await Promise.all(items.slice(start, start + lookupsAtOnce).map(work))
}
