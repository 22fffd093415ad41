import { adminFor } from './admin-access.js'
import { ClaimCheck, type ClaimCheckOptions, claimCheckOptionsCheck } from './claim-check.js'
import { type CodecOption, codecCheck, resolveCodec } from './codec.js'
import type { Handler } from './consumer-engine.js'
import { DeadLetters } from './dead-letters.js'
import { type DestinationStats, readStats } from './destination-stats.js'
import { UnsupportedFeatureError } from './errors.js'
import type { Message } from './message.js'
import { iterateMessages, type MessagesOptions } from './message-iterator.js'
import { MessageSender } from './message-sender.js'
import {
  abortSignal,
  deadLetterCheck,
  integer,
  nameCheck,
  type OptionCheck,
  ofType,
  standardSchema,
  stringRecord,
  validateOptions,
} from './options-validation.js'
import { noSendOptions, type OutgoingContext, type SendOptions } from './outgoing-message.js'
import { createRetryPolicy, type RetryPolicyOptions, retryPolicyCheck } from './retry-policy.js'
import type { Runtime } from './runtime.js'
import type { StandardSchemaV1 } from './schema.js'
import type { QueueSpec } from './spi/transport.js'
import { type ConsumeOptions, type ConsumerDefinition, type Subscription, startSubscription } from './subscription.js'

/** Options of `mq.queue(name, options)`. */
export interface QueueOptions<T> {
  /** Any Standard Schema (zod, valibot, arktype): checked on send (nothing sent) and on receive (dead-lettered). */
  schema?: StandardSchemaV1<unknown, T>
  /** `json` (default), `text`, `raw` bytes, or your own codec. */
  codec?: CodecOption
  /** Retry policy, or `false` to dead-letter on the first failure. Default: 5 attempts, exponential from 200 ms. */
  retry?: RetryPolicyOptions | false
  /** Dead-letter queue name, or `false` to drop failed messages (logged). Default: `<name>.dlq`. */
  deadLetter?: string | false
  /** Keep per-key order across consumer instances (FIFO queue, single active consumer…). Default false. */
  ordered?: boolean
  /** Adapter-specific provisioning (e.g. `{ queueType: 'quorum' }` on RabbitMQ); see the adapter's README. */
  broker?: Record<string, unknown>
  /**
   * Makes a priority queue with levels 0 to `maxPriority` (1 to 9): `send(body, { priority })` then
   * delivers higher priorities first among waiting messages. Needs the adapter's `priority` capability;
   * where it is `priorityQueues: 'declared'` (RabbitMQ, Redis) only such a queue takes priorities, and
   * the broker fixes them when it creates the queue.
   */
  maxPriority?: number
  /**
   * Claim check for large payloads: a body over the threshold is written to `store` and the message
   * carries its key; consumers of this queue fetch it back before decoding and validation, delete it
   * after the ack, and keep it `deadLetterRetentionMs` when the message is dead-lettered. Senders and
   * consumers of one queue must use the same store.
   */
  claimCheck?: ClaimCheckOptions
}

/** Checks of `mq.queue()` options but `broker`, which the adapter declares (`AdapterFactory.queueBrokerOptions`). */
const queueOptionChecks: Record<Exclude<keyof QueueOptions<unknown>, 'broker'>, OptionCheck> = {
  schema: standardSchema(),
  codec: codecCheck,
  retry: retryPolicyCheck,
  deadLetter: deadLetterCheck,
  ordered: ofType('boolean'),
  claimCheck: claimCheckOptionsCheck,
  maxPriority: integer(1, 9),
}

export const sendOptionChecks: Record<keyof SendOptions, OptionCheck> = {
  key: ofType('string'),
  headers: stringRecord(),
  delayMs: integer(0),
  id: ofType('string'),
  correlationId: ofType('string'),
  replyTo: ofType('string'),
  priority: integer(0, 9),
  ttlMs: integer(1),
  dedupeId: ofType('string'),
  signal: abortSignal(),
}

/**
 * A point-to-point queue: each message goes to exactly one of the competing consumers, at least once.
 * Handles are cheap; the broker-side queue is provisioned on first use.
 */
export class Queue<T = unknown> {
  readonly name: string
  private readonly spec: QueueSpec
  private readonly outgoing: OutgoingContext
  private readonly sender: MessageSender

  constructor(
    private readonly runtime: Runtime,
    name: string,
    private readonly options: QueueOptions<T> = {},
  ) {
    validateOptions(options, { ...queueOptionChecks, broker: runtime.brokerOptionsCheck }, `queue('${name}') options`, runtime.adapter)
    validateName(runtime, name, 'queue')
    if (options.ordered === true && runtime.capabilities.ordering !== 'key') {
      throw new UnsupportedFeatureError(
        runtime.adapter,
        'ordered: true (per-key order across consumer instances)',
        `its ordering is '${runtime.capabilities.ordering}'; leave ordered out (messages of one key still run one at a time, in order, inside one process)`,
      )
    }
    if (options.maxPriority !== undefined && !runtime.capabilities.priority) {
      throw new UnsupportedFeatureError(runtime.adapter, 'maxPriority (a priority queue)', 'use a separate queue for urgent messages')
    }
    this.name = name
    const retry = createRetryPolicy(options.retry)
    this.spec = {
      name,
      ordered: options.ordered ?? false,
      deadLetter: options.deadLetter ?? `${name}.dlq`,
      maxAttempts: retry.maxAttempts,
      broker: options.broker ?? {},
      ...(options.maxPriority === undefined ? {} : { maxPriority: options.maxPriority }),
    }
    this.outgoing = {
      adapter: runtime.adapter,
      capabilities: runtime.capabilities,
      codec: resolveCodec(options.codec),
      schema: options.schema,
      where: `queue '${name}'`,
      cloudEvents: runtime.cloudEventsHeaders,
      claimCheck: options.claimCheck ? new ClaimCheck(options.claimCheck, runtime.capabilities, runtime.adapter) : undefined,
      maxPriority: options.maxPriority,
    }
    this.sender = new MessageSender(runtime, { kind: 'queue', queue: this.spec }, this.outgoing, sendOptionChecks, 'send')
    runtime.declarations.declare('queue', name, { schema: options.schema, contentType: this.outgoing.codec.contentType, deadLetter: this.spec.deadLetter })
  }

  /** Sends one message. Resolves once the broker has it; rejects with a typed error, having sent nothing. */
  send(body: T, options: SendOptions = noSendOptions): Promise<{ id: string }> {
    return this.sender.one(body, options)
  }

  /**
   * Sends many messages in as few broker round trips as the adapter allows. Every body is validated
   * and encoded first: one bad body rejects the whole batch before anything is sent.
   */
  sendBatch(bodies: readonly T[], options: SendOptions | ((body: T, index: number) => SendOptions) = {}): Promise<{ ids: string[] }> {
    return this.sender.many(bodies, options)
  }

  /** Starts a consumer. See {@link Subscription.ready} for how it starts and {@link Subscription.close} for how it stops. */
  consume(handler: Handler<T>, options: ConsumeOptions = {}): Subscription {
    return startSubscription<T>(this.runtime, this.consumer('consume'), handler, options)
  }

  /**
   * The async-iterator form: `for await (const message of queue.messages({ signal })) { … }`. A message
   * is acked when the loop asks for the next one; leaving the loop (break, return or throw) gives the
   * current one back with `release()`. The loop ends when the signal aborts or the connection closes.
   */
  messages(options: MessagesOptions = {}): AsyncIterableIterator<Message<T>> {
    return iterateMessages<T>(this.runtime, this.consumer('messages'), options)
  }

  private consumer(call: string): ConsumerDefinition<T> {
    this.runtime.declarations.declare('queue', this.name, { schema: this.options.schema, contentType: this.outgoing.codec.contentType, received: true })
    return {
      source: { kind: 'queue', queue: this.spec },
      label: this.name,
      where: `queue('${this.name}').${call}`,
      codec: this.outgoing.codec,
      schema: this.options.schema,
      retry: createRetryPolicy(this.options.retry),
      deadLetter: this.spec.deadLetter,
      claimCheck: this.outgoing.claimCheck,
    }
  }

  /**
   * Depths of this queue: ready, in flight, dead-lettered, consumers and the oldest message's age where
   * the broker tells. Rejects with `UnsupportedFeatureError` when the adapter does not declare `admin.stats`.
   */
  stats(): Promise<DestinationStats> {
    return readStats(this.runtime, { kind: 'queue', queue: this.spec }, this.name, this.spec.deadLetter)
  }

  /**
   * Removes every waiting message of this queue (not its dead letters). Messages already handed to a
   * consumer may still be settled. Rejects with `UnsupportedFeatureError` when the adapter does not declare `admin.purge`.
   */
  async purge(): Promise<void> {
    await adminFor(this.runtime, 'purge', 'purge()').purge({ kind: 'queue', queue: this.spec })
  }

  /**
   * Deletes this queue on the broker with anymq's private structures for it (retry queues, delay
   * sets); its dead-letter queue stays (delete it with `mq.queue(deadLetters().name).delete()`).
   * Idempotent. Rejects with `UnsupportedFeatureError` when the adapter does not declare `admin.delete`.
   */
  async delete(): Promise<void> {
    await adminFor(this.runtime, 'delete', 'delete()').remove({ kind: 'queue', queue: this.spec })
  }

  /** Inspect and redrive the dead letters of this queue. */
  deadLetters(): DeadLetters<T> {
    const name = this.spec.deadLetter === false ? undefined : this.spec.deadLetter
    return new DeadLetters<T>(this.runtime, name, { kind: 'queue', queue: this.spec }, this.outgoing.codec, this.outgoing.claimCheck, this.options.schema)
  }
}

export function validateName(runtime: Runtime, name: unknown, what: string): void {
  validateOptions({ name }, { name: nameCheck }, what, runtime.adapter)
}
