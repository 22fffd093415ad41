import { ConfigError, type SubscriptionSpec } from '@anymq/core/spi'
import {
  CreateEventBusCommand,
  DeleteRuleCommand,
  type EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge'
import { SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { adapterName, errorCode, wrapError } from './aws-errors.js'
import { eventSource } from './aws-eventbridge-format.js'
import { eventDetailType, eventRuleName } from './aws-names.js'
import type { AwsTopology, QueueRef } from './aws-topology.js'

/** The one target id of every anymq rule: a rule feeds exactly one subscription queue. */
const targetId = 'anymq'

/**
 * Subscriptions of `topics=eventbridge`: each subscription queue gets a rule on the bus whose event
 * pattern selects the topic's events (source `anymq`, detail-type = topic) and the subscription's
 * header filter (`detail.headers.<name>` = value), with the queue as its only target and a queue
 * policy that lets EventBridge send to it. Everything after the queue is the SQS side as it is.
 */
export class EventBridgeTopology {
  private readonly rules = new Map<string, Promise<void>>()
  private bus: Promise<void> | undefined

  constructor(
    private readonly events: EventBridgeClient,
    private readonly sqs: SQSClient,
    private readonly topology: AwsTopology,
    readonly eventBus: string,
  ) {}

  /** The bus exists before the first PutEvents (a custom bus is created once; `default` always exists). */
  ensureBus(): Promise<void> {
    if (this.eventBus === 'default') return Promise.resolve()
    this.bus ??= this.events.send(new CreateEventBusCommand({ Name: this.eventBus })).then(
      () => undefined,
      (error: unknown) => {
        if (/AlreadyExists/i.test(errorCode(error))) return
        this.bus = undefined
        throw wrapError(error, `creating EventBridge bus '${this.eventBus}'`)
      },
    )
    return this.bus
  }

  /** The rule that feeds `ref` with the topic's events; resolves once the rule and its target are in place. */
  ensureRule(spec: SubscriptionSpec, ref: QueueRef): Promise<void> {
    const name = eventRuleName(ref.name)
    let promise = this.rules.get(name)
    if (!promise) {
      promise = this.createRule(spec, ref, name)
      this.rules.set(name, promise)
      promise.catch(() => this.rules.delete(name))
    }
    return promise
  }

  /** Forget what was made for a queue that had to be provisioned again (deleted, or an emulator restarted empty). */
  forget(queue: string): void {
    this.rules.delete(eventRuleName(queue))
    this.bus = undefined
  }

  /** Removes the rule of a temporary queue (ephemeral subscriber); the queue itself goes with the topology. */
  async removeRule(ref: QueueRef): Promise<void> {
    const name = eventRuleName(ref.name)
    this.rules.delete(name)
    await this.events.send(new RemoveTargetsCommand({ Rule: name, EventBusName: this.eventBus, Ids: [targetId] })).catch(() => {})
    await this.events.send(new DeleteRuleCommand({ Name: name, EventBusName: this.eventBus })).catch(() => {})
  }

  /** Header names become JSON keys of the pattern: any name works, but an empty value matches nothing. */
  validateFilter(spec: SubscriptionSpec): void {
    for (const [name, value] of Object.entries(spec.filter?.headers ?? {})) {
      if (value === '') {
        throw new ConfigError([{ field: `filter.headers.${name}`, message: 'an EventBridge pattern needs a non-empty header value' }], { adapter: adapterName })
      }
    }
  }

  private async createRule(spec: SubscriptionSpec, ref: QueueRef, name: string): Promise<void> {
    await this.ensureBus()
    const [url, queueArn] = await Promise.all([this.topology.queueUrl(ref), this.topology.queueArn(ref)])
    const pattern: Record<string, unknown> = { source: [eventSource], 'detail-type': [eventDetailType(spec.topic)] }
    const headers = spec.filter?.headers
    if (headers && Object.keys(headers).length > 0) {
      pattern.detail = { headers: Object.fromEntries(Object.entries(headers).map(([header, value]) => [header, [value]])) }
    }
    let ruleArn: string
    try {
      // PutRule replaces the pattern of an existing rule: a subscription made again with another filter takes the new one.
      const result = await this.events.send(
        new PutRuleCommand({ Name: name, EventBusName: this.eventBus, EventPattern: JSON.stringify(pattern), State: 'ENABLED' }),
      )
      if (!result.RuleArn) throw new Error('PutRule returned no RuleArn')
      ruleArn = result.RuleArn
    } catch (error) {
      throw wrapError(error, `creating EventBridge rule '${name}' for topic '${spec.topic}'`)
    }
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'anymq-allow-eventbridge-rule',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: queueArn,
          Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
        },
      ],
    }
    try {
      await this.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify(policy) } }))
      const result = await this.events.send(new PutTargetsCommand({ Rule: name, EventBusName: this.eventBus, Targets: [{ Id: targetId, Arn: queueArn }] }))
      const failed = result.FailedEntries?.[0]
      if ((result.FailedEntryCount ?? 0) > 0 && failed)
        throw Object.assign(new Error(failed.ErrorMessage ?? failed.ErrorCode), { name: failed.ErrorCode ?? 'PutTargetsFailed' })
    } catch (error) {
      throw wrapError(error, `pointing EventBridge rule '${name}' at queue '${ref.name}'`)
    }
  }
}
