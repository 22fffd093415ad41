import { ConfigError, type QueueSpec, type SubscriptionSpec } from '@anymq/core/spi'
import { CreateTopicCommand, SetSubscriptionAttributesCommand, type SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns'
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import { adapterName, errorCode, isQueueMissing, wrapError } from './aws-errors.js'
import { queueName, subscriptionQueueName, temporaryQueueName, topicName } from './aws-names.js'
import { isAttributeName } from './aws-wire-format.js'

/** A queue as the adapter addresses it: its SQS name, whether it is FIFO, and its URL once known. */
export interface QueueRef {
  name: string
  fifo: boolean
  /** FIFO with per-key groups (`ordered: true`); unordered FIFO queues group by message id. */
  ordered: boolean
  /** Tags the queue is created with: the anymq name it stands for, which `list()` reads back (see {@link anymqTags}). */
  tags?: Record<string, string>
}

/**
 * Tags on every queue and SNS topic anymq makes, naming what it stands for in anymq's terms: SQS and
 * SNS names are hashed when an anymq name does not fit them, so only the tags tell `list()` what a
 * queue is (`anymq:kind` queue or subscription, `anymq:name`, and for a subscription `anymq:topic`).
 */
export const anymqTags = { kind: 'anymq:kind', name: 'anymq:name', topic: 'anymq:topic' } as const

/** Receives beyond the retry policy's attempts before SQS's own redrive moves a message (a backstop). */
export const redriveMargin = 10

/**
 * Creates what the adapter needs on first use and remembers it: queue URLs and ARNs, topic ARNs,
 * subscriptions. Every lookup is cached per connection; `forget` drops a queue whose URL stopped
 * working (deleted, or an emulator restarted) so the next use provisions it again.
 */
export class AwsTopology {
  private readonly urls = new Map<string, Promise<string>>()
  private readonly arns = new Map<string, Promise<string>>()
  private readonly topics = new Map<string, Promise<string>>()
  private readonly subscriptions = new Map<string, Promise<string>>()
  private readonly redrives = new Map<string, Promise<void>>()

  constructor(
    private readonly sqs: SQSClient,
    private readonly sns: SNSClient,
    private readonly queueType: 'standard' | 'fifo',
  ) {}

  queueRef(spec: QueueSpec): QueueRef {
    const fifo = spec.ordered || this.queueType === 'fifo'
    return { name: queueName(spec.name, fifo), fifo, ordered: spec.ordered, tags: queueTags(spec.name) }
  }

  subscriptionRef(spec: SubscriptionSpec): QueueRef {
    if (spec.name === undefined) throw new ConfigError('an ephemeral subscription has no queue of its own to address', { adapter: adapterName })
    return {
      name: subscriptionQueueName(spec.topic, spec.name),
      fifo: false,
      ordered: false,
      tags: { [anymqTags.kind]: 'subscription', [anymqTags.name]: spec.name, [anymqTags.topic]: spec.topic },
    }
  }

  temporaryRef(): QueueRef {
    return { name: temporaryQueueName(), fifo: false, ordered: false }
  }

  /** The URL of a queue, creating the queue when it does not exist. */
  queueUrl(ref: QueueRef): Promise<string> {
    return this.cached(this.urls, ref.name, () => this.createQueue(ref))
  }

  /** The URL of an existing queue (never creates one): for reply inboxes that belong to someone else. */
  existingQueueUrl(name: string): Promise<string> {
    return this.cached(this.urls, name, async () => {
      try {
        const result = await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }))
        return required(result.QueueUrl, 'GetQueueUrl returned no QueueUrl')
      } catch (error) {
        throw wrapError(error, `looking up queue '${name}'`, 'publish')
      }
    })
  }

  /**
   * Forget a queue's URL (and what hangs on it) after SQS said it does not exist. Topic ARNs go too:
   * what deleted the queue (an emulator restart) usually took the topics with it.
   */
  forget(name: string): void {
    this.urls.delete(name)
    this.arns.delete(name)
    for (const key of [...this.redrives.keys()]) if (key.startsWith(`${name}\u0000`)) this.redrives.delete(key)
    for (const key of [...this.subscriptions.keys()]) if (key.endsWith(`\u0000${name}`)) this.subscriptions.delete(key)
    this.topics.clear()
  }

  /** The URL of a queue when it exists (never creates one); `undefined` when SQS does not know it. */
  async findQueueUrl(name: string): Promise<string | undefined> {
    const cached = await this.urls.get(name)?.catch(() => undefined)
    if (cached !== undefined) return cached
    try {
      return (await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl
    } catch (error) {
      if (isQueueMissing(error)) return undefined
      throw wrapError(error, `looking up queue '${name}'`)
    }
  }

  /** Forget a deleted topic's ARN and the subscriptions made to it. */
  forgetTopic(topic: string): void {
    this.topics.delete(topic)
    for (const key of [...this.subscriptions.keys()]) if (key.startsWith(`${topic}\u0000`)) this.subscriptions.delete(key)
  }

  /** Forget every topic ARN after SNS said a topic does not exist. */
  forgetTopics(): void {
    this.topics.clear()
  }

  topicArn(topic: string): Promise<string> {
    return this.cached(this.topics, topic, async () => {
      const create = (tagged: boolean) =>
        this.sns.send(new CreateTopicCommand({ Name: topicName(topic), ...(tagged ? { Tags: [{ Key: anymqTags.name, Value: topic }] } : {}) }))
      try {
        const result = await create(true).catch((error: unknown) => {
          // A topic made without the tag (by an older anymq, or by hand): SNS refuses other tags on CreateTopic.
          if (/InvalidParameter/i.test(errorCode(error)) && /tag/i.test(String((error as Error)?.message))) return create(false)
          throw error
        })
        return required(result.TopicArn, 'CreateTopic returned no TopicArn')
      } catch (error) {
        throw wrapError(error, `creating SNS topic for '${topic}'`)
      }
    })
  }

  /**
   * SQS's own redrive as a backstop for consumers that crash before they can dead-letter: after
   * `maxAttempts + redriveMargin` receives SQS moves the message to the dead-letter queue itself.
   * Only between queues of the same type (SQS refuses a standard DLQ for a FIFO queue).
   */
  ensureRedrive(ref: QueueRef, deadLetter: QueueRef, maxAttempts: number): Promise<void> {
    if (ref.fifo !== deadLetter.fifo) return Promise.resolve()
    const key = `${ref.name}\u0000${deadLetter.name}\u0000${maxAttempts}`
    return this.cached(this.redrives, key, async () => {
      try {
        await this.setRedrive(ref, deadLetter, maxAttempts)
      } catch {
        // The dead-letter queue's cached URL and ARN may name a queue that is gone (a restarted
        // emulator, a deleted queue): look it up again, which makes it again, and try once more.
        this.urls.delete(deadLetter.name)
        this.arns.delete(deadLetter.name)
        await this.setRedrive(ref, deadLetter, maxAttempts)
      }
    })
  }

  private async setRedrive(ref: QueueRef, deadLetter: QueueRef, maxAttempts: number): Promise<void> {
    const [url, deadLetterArn] = await Promise.all([this.queueUrl(ref), this.queueArn(deadLetter)])
    try {
      await this.sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: url,
          Attributes: {
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: deadLetterArn,
              maxReceiveCount: Math.min(1000, maxAttempts + redriveMargin),
            }),
          },
        }),
      )
    } catch (error) {
      throw wrapError(error, `setting the redrive policy of queue '${ref.name}'`)
    }
  }

  /**
   * A queue subscribed to the topic with raw message delivery, a queue policy that lets the topic
   * send to it, and the header filter as an SNS filter policy. Resolves with the subscription ARN.
   */
  ensureSubscription(spec: SubscriptionSpec, ref: QueueRef): Promise<string> {
    const key = `${spec.topic}\u0000${ref.name}`
    return this.cached(this.subscriptions, key, async () => {
      const [url, queueArn, topicArn] = await Promise.all([this.queueUrl(ref), this.queueArn(ref), this.topicArn(spec.topic)])
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'anymq-allow-sns-topic',
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queueArn,
            Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
          },
        ],
      }
      try {
        await this.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify(policy) } }))
      } catch (error) {
        throw wrapError(error, `setting the policy of subscription queue '${ref.name}'`)
      }
      const filterPolicy = spec.filter?.headers
        ? JSON.stringify(Object.fromEntries(Object.entries(spec.filter.headers).map(([name, value]) => [name, [value]])))
        : undefined
      const attributes: Record<string, string> = { RawMessageDelivery: 'true' }
      if (filterPolicy) {
        attributes.FilterPolicy = filterPolicy
        attributes.FilterPolicyScope = 'MessageAttributes'
      }
      try {
        const result = await this.sns.send(
          new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn, Attributes: attributes, ReturnSubscriptionArn: true }),
        )
        const arn = required(result.SubscriptionArn, 'Subscribe returned no SubscriptionArn')
        // A subscription made earlier with another filter keeps its attributes on Subscribe: set them.
        if (filterPolicy) {
          await this.sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn: arn, AttributeName: 'FilterPolicy', AttributeValue: filterPolicy }))
        }
        return arn
      } catch (error) {
        throw wrapError(error, `subscribing queue '${ref.name}' to topic '${spec.topic}'`)
      }
    })
  }

  /** Removes a temporary queue and its SNS subscription (ephemeral subscribers, reply inboxes). */
  async removeTemporary(ref: QueueRef, subscriptionArn: string | undefined): Promise<void> {
    if (subscriptionArn) await this.sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn })).catch(() => {})
    // A creation that failed half way (timed out after SQS made the queue) left no URL: look it up.
    const url = (await this.urls.get(ref.name)?.catch(() => undefined)) ?? (await this.lookupQueueUrl(ref.name))
    this.forget(ref.name)
    if (url) {
      await this.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch((error: unknown) => {
        if (!isQueueMissing(error)) throw wrapError(error, `deleting temporary queue '${ref.name}'`)
      })
    }
  }

  private async lookupQueueUrl(name: string): Promise<string | undefined> {
    try {
      return (await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl
    } catch {
      return undefined
    }
  }

  validateFilter(spec: SubscriptionSpec): void {
    for (const [name, value] of Object.entries(spec.filter?.headers ?? {})) {
      if (!isAttributeName(name) || value === '') {
        throw new ConfigError(
          [
            {
              field: `filter.headers.${name}`,
              message: 'SNS filter policies match message attributes: use a header name of letters, digits, _ - . and a non-empty value',
            },
          ],
          { adapter: adapterName },
        )
      }
    }
  }

  queueArn(ref: QueueRef): Promise<string> {
    return this.cached(this.arns, ref.name, async () => {
      const url = await this.queueUrl(ref)
      try {
        const result = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))
        return required(result.Attributes?.QueueArn, 'GetQueueAttributes returned no QueueArn')
      } catch (error) {
        throw wrapError(error, `reading the ARN of queue '${ref.name}'`)
      }
    })
  }

  private async createQueue(ref: QueueRef): Promise<string> {
    const attributes: Record<string, string> = ref.fifo ? { FifoQueue: 'true' } : {}
    const temporary = /^anymq-tmp-/.test(ref.name)
    if (temporary) attributes.MessageRetentionPeriod = '3600'
    const tags = temporary ? { 'anymq:temporary': 'true', 'anymq:created-at': new Date().toISOString() } : ref.tags
    try {
      const result = await this.sqs.send(new CreateQueueCommand({ QueueName: ref.name, Attributes: attributes, ...(tags ? { tags } : {}) }))
      return required(result.QueueUrl, 'CreateQueue returned no QueueUrl')
    } catch (error) {
      // Made by someone else with other attributes, or no permission to create: use it as it is.
      const code = errorCode(error)
      if (code === 'QueueAlreadyExists' || code === 'QueueNameExists' || /AccessDenied/i.test(code)) {
        try {
          const result = await this.sqs.send(new GetQueueUrlCommand({ QueueName: ref.name }))
          return required(result.QueueUrl, 'GetQueueUrl returned no QueueUrl')
        } catch {
          // fall through to the original error
        }
      }
      throw wrapError(error, `creating queue '${ref.name}'`)
    }
  }

  private cached<T>(map: Map<string, Promise<T>>, key: string, create: () => Promise<T>): Promise<T> {
    let promise = map.get(key)
    if (!promise) {
      promise = create()
      map.set(key, promise)
      promise.catch(() => {
        if (map.get(key) === promise) map.delete(key)
      })
    }
    return promise
  }
}

function queueTags(name: string): Record<string, string> {
  return { [anymqTags.kind]: 'queue', [anymqTags.name]: name }
}

/** The dead-letter queue `name` as the redrive backstop addresses it, tagged like any queue (it is listed like one). */
export function deadLetterRef(name: string, fifo: boolean): QueueRef {
  return { name: queueName(name, fifo), fifo, ordered: false, tags: queueTags(name) }
}

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new Error(message)
  return value
}
