import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import {
  AbortedError,
  AnymqError,
  type Capabilities,
  ClosedError,
  ConnectionError,
  ConnectionStateTracker,
  checkWithin,
  type Delivery,
  type Destination,
  type Inbox,
  type IncomingMessage,
  type Logger,
  type OutgoingMessage,
  PublishError,
  type QueueSpec,
  registerSecret,
  type Source,
  settlesWithin,
  type Transport,
  type TransportConsumeOptions,
  type TransportConsumer,
  UnsupportedFeatureError,
} from '@anymq/core/spi'
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { PublishBatchCommand, type PublishBatchRequestEntry, SNSClient } from '@aws-sdk/client-sns'
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs'
import { AwsAdmin } from './aws-admin.js'
import { Batcher, type EntryOutcome } from './aws-batcher.js'
import type { AwsConfig } from './aws-config.js'
import { SqsConsumer, type VisibilityChange } from './aws-consumer.js'
import { adapterName, errorCode, isQueueMissing, isRetryable, refusalOf, wrapError } from './aws-errors.js'
import { EventBridgePublisher } from './aws-eventbridge-publisher.js'
import { EventBridgeTopology } from './aws-eventbridge-topology.js'
import { AwsTopology, deadLetterRef, type QueueRef } from './aws-topology.js'
import { decodeMessage, encodeMessage, type WireMessage } from './aws-wire-format.js'

/** SendMessageBatch: 10 entries and 1 MiB per request; PublishBatch: 10 entries and 256 KiB. */
const sqsBatchBytes = 1_048_576
const snsBatchBytes = 262_144

interface SendEntry {
  ref: QueueRef
  /** Reply inboxes belong to another connection: look them up, never create them. */
  existing: boolean
  wire: WireMessage
}

interface PublishEntry {
  topic: string
  wire: WireMessage
}

/** How long `connect` waits for SQS' first answer (a request's own 30 s timeout and the SDK's retries took 90 s and more). */
const connectCheckMs = 10_000
/** How long `close()` waits for the batched settles and sends still at SQS: a silent endpoint would hold them for the SDK's timeouts and retries. */
const batchersWaitMs = 5_000
/** What the batched settles still get after the long polls returned, however long those took. */
const batchersLastWaitMs = 1_000

/** One connection to SQS and SNS (or an emulator that speaks their APIs). */
export class AwsTransport implements Transport {
  private readonly sqs: SQSClient
  private readonly pollClient: SQSClient
  private readonly sns: SNSClient
  private readonly topology: AwsTopology
  /** Unkeyed messages: up to 8 batch requests per destination in flight. */
  private readonly sends: Batcher<SendEntry>
  private readonly publishes: Batcher<PublishEntry>
  /**
   * Keyed messages: one batch request per destination at a time, so they arrive in the order they
   * were sent (what FIFO queues need for per-key order, and standard queues' best-effort order).
   */
  private readonly orderedSends: Batcher<SendEntry>
  private readonly orderedPublishes: Batcher<PublishEntry>
  private readonly deletes: Batcher<string>
  private readonly visibility: Batcher<VisibilityChange>
  private readonly consumers = new Set<SqsConsumer>()
  /** The receives of every consumer started, closed ones included, until they have all returned. */
  private readonly polling = new Set<Promise<void>>()
  /** Only with `topics=eventbridge`: topics are events on a bus instead of SNS topics. */
  private readonly events: EventBridgeClient | undefined
  private readonly eventTopology: EventBridgeTopology | undefined
  private readonly eventPublisher: EventBridgePublisher | undefined
  private closed = false
  readonly admin: AwsAdmin

  constructor(
    private readonly config: AwsConfig,
    readonly capabilities: Capabilities,
    private readonly logger: Logger,
    private readonly connectionState = new ConnectionStateTracker(undefined),
  ) {
    const agents = (maxSockets: number) => ({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ ...config.tls, keepAlive: true, maxSockets }),
    })
    const common = {
      ...(config.region ? { region: config.region } : {}),
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.credentials ? { credentials: config.credentials as never } : {}),
    }
    // Current @smithy/node-http-handler only logs a warning when requestTimeout passes unless
    // throwOnRequestTimeout is set: without it a hung request would hang its caller.
    const handler = (requestTimeout: number, maxSockets: number) => ({
      connectionTimeout: 5_000,
      requestTimeout,
      throwOnRequestTimeout: true,
      ...agents(maxSockets),
    })
    this.sqs = new SQSClient({ ...common, maxAttempts: 3, requestHandler: handler(30_000, 128) })
    // Long polls wait up to waitTimeSeconds for an answer: the request timeout must exceed it
    // (aws-sdk-js-v3#4618: a 20 s poll cut at 5 s). The consumer adds a watchdog on top.
    this.pollClient = new SQSClient({ ...common, maxAttempts: 1, requestHandler: handler((config.waitTimeSeconds + 10) * 1000, 1024) })
    this.sns = new SNSClient({ ...common, maxAttempts: 3, requestHandler: handler(30_000, 64) })
    this.topology = new AwsTopology(this.sqs, this.sns, config.queueType)
    this.admin = new AwsAdmin({
      sqs: this.sqs,
      sns: this.sns,
      topology: this.topology,
      eventBridge: config.topics === 'eventbridge',
      assertOpen: () => this.assertOpen(),
      receive: (url, count, visibilitySeconds, waitSeconds, name) => this.receiveOnce(url, count, visibilitySeconds, waitSeconds, name),
    })
    if (config.topics === 'eventbridge') {
      this.events = new EventBridgeClient({ ...common, maxAttempts: 3, requestHandler: handler(30_000, 64) })
      this.eventTopology = new EventBridgeTopology(this.events, this.sqs, this.topology, config.eventBus)
      this.eventPublisher = new EventBridgePublisher(this.events, this.eventTopology)
    }
    const sends = (concurrency: number) =>
      new Batcher<SendEntry>({
        maxEntries: 10,
        maxBytes: sqsBatchBytes,
        size: (entry) => entry.wire.size,
        concurrency,
        maxAttempts: 5,
        flush: (_key, entries) => this.sendBatch(entries),
        retryable: isRetryable,
      })
    const publishes = (concurrency: number) =>
      new Batcher<PublishEntry>({
        maxEntries: 10,
        maxBytes: snsBatchBytes,
        size: (entry) => entry.wire.size,
        concurrency,
        maxAttempts: 5,
        flush: (_key, entries) => this.publishBatch(entries),
        retryable: isRetryable,
      })
    this.sends = sends(8)
    this.orderedSends = sends(1)
    this.publishes = publishes(8)
    this.orderedPublishes = publishes(1)
    this.deletes = new Batcher<string>({
      maxEntries: 10,
      concurrency: 8,
      maxAttempts: 3,
      flush: (key, receipts) => this.deleteBatch(key, receipts),
      retryable: isRetryable,
    })
    this.visibility = new Batcher<VisibilityChange>({
      maxEntries: 10,
      concurrency: 8,
      maxAttempts: 3,
      flush: (key, changes) => this.visibilityBatch(key, changes),
      retryable: isRetryable,
    })
  }

  /**
   * Resolves once SQS answered an authenticated request, within {@link connectCheckMs}; registers the
   * secret key for redaction. `signal` (the caller's connect signal) cuts the check and drops every
   * client's sockets at once, rather than after the request timeout and retries.
   */
  async open(signal?: AbortSignal): Promise<void> {
    const target = `SQS${this.config.endpoint ? ` at ${this.config.endpoint}` : ''}`
    await checkWithin({ adapter: adapterName, target, ms: connectCheckMs, signal, onAbort: () => void this.destroy() }, (either) => this.check(either))
  }

  private async check(signal: AbortSignal): Promise<void> {
    try {
      const credentials = await this.sqs.config.credentials()
      registerSecret(credentials.secretAccessKey)
      registerSecret(credentials.sessionToken)
      if (signal.aborted) throw new AbortedError('connect', { adapter: adapterName })
    } catch (error) {
      await this.destroy()
      throw wrapError(error, 'resolving AWS credentials')
    }
    try {
      // Any authenticated answer proves the endpoint, region and credentials: "no such queue" included.
      await this.sqs.send(new GetQueueUrlCommand({ QueueName: 'anymq-connection-check' }), { abortSignal: signal })
    } catch (error) {
      // Valid credentials without the right to look this name up: refused at the first call that needs it.
      if (!signal.aborted && (isQueueMissing(error) || refusalOf(error) === 'permission-denied')) return
      await this.destroy()
      throw wrapError(error, `connecting to SQS${this.config.endpoint ? ` at ${this.config.endpoint}` : ''} in ${this.config.region ?? 'the default region'}`)
    }
  }

  async publish(destination: Destination, messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    this.assertOpen()
    if (messages.length === 0) return
    const maxBytes = this.capabilities.maxMessageBytes
    let work: Promise<void>[]
    switch (destination.kind) {
      case 'topic': {
        if (this.eventPublisher) {
          work = this.eventPublisher.publish(destination.topic, messages, maxBytes, signal)
          break
        }
        const wires = messages.map((message) => encodeMessage(message, { fifo: false, ordered: false, maxBytes, adapter: adapterName }))
        work = wires.map((wire) =>
          (wire.source.key === undefined ? this.publishes : this.orderedPublishes).add(destination.topic, { topic: destination.topic, wire }, signal),
        )
        break
      }
      case 'queue':
      case 'subscription':
      case 'inbox': {
        const ref =
          destination.kind === 'queue'
            ? this.topology.queueRef(destination.queue)
            : destination.kind === 'subscription'
              ? this.topology.subscriptionRef(destination.subscription)
              : { name: destination.address, fifo: false, ordered: false }
        if (ref.fifo && messages.some((message) => message.delayMs > 0)) {
          throw new UnsupportedFeatureError(
            adapterName,
            'delayMs on an SQS FIFO queue (ordered: true or ?queueType=fifo)',
            'SQS FIFO queues have no per-message delay; use an unordered queue for delayed messages',
          )
        }
        const wires = messages.map((message) => encodeMessage(message, { fifo: ref.fifo, ordered: ref.ordered, maxBytes, adapter: adapterName }))
        const existing = destination.kind === 'inbox'
        work = wires.map((wire) => (wire.source.key === undefined ? this.sends : this.orderedSends).add(ref.name, { ref, existing, wire }, signal))
        break
      }
    }
    const results = await Promise.allSettled(work)
    const failures = results.flatMap((result, index) => (result.status === 'rejected' ? [{ id: messages[index]?.id, error: result.reason as Error }] : []))
    // A publish is a request too: one that could not reach the service is a lost connection for
    // mq.health(), the next that gets through its end, as for a consumer's receive.
    if (failures.length === 0) {
      this.connectionState.working()
      return
    }
    const first = failures[0] as { id: string | undefined; error: Error }
    this.connectionState.failed(first.error, sendUnreachable(first.error))
    if (messages.length === 1) throw wrapError(first.error, 'sending the message', 'publish')
    throw new PublishError(
      `${failures.length} of ${messages.length} messages were not sent (ids ${failures
        .slice(0, 10)
        .map((failure) => failure.id)
        .join(', ')}${failures.length > 10 ? ', …' : ''}); the others were: ${first.error.message}`,
      { adapter: adapterName, cause: first.error, retryable: failures.every((failure) => wrapError(failure.error, 'send', 'publish').isRetryable) },
    )
  }

  async consume(source: Source, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<TransportConsumer> {
    this.assertOpen()
    if (source.kind === 'queue') {
      const spec = source.queue
      const ref = this.topology.queueRef(spec)
      return this.startConsumer(ref, options, deliver, async (force) => {
        if (force) this.topology.forget(ref.name)
        const url = await this.topology.queueUrl(ref)
        if (spec.deadLetter !== false) await this.backstop(ref, spec.deadLetter, spec.maxAttempts)
        return url
      })
    }
    const spec = source.subscription
    const eventTopology = this.eventTopology
    if (eventTopology) eventTopology.validateFilter(spec)
    else this.topology.validateFilter(spec)
    if (spec.name !== undefined) {
      const ref = this.topology.subscriptionRef(spec)
      return this.startConsumer(ref, options, deliver, async (force) => {
        if (force) {
          this.topology.forget(ref.name)
          eventTopology?.forget(ref.name)
        }
        const url = await this.topology.queueUrl(ref)
        if (eventTopology) await eventTopology.ensureRule(spec, ref)
        else await this.topology.ensureSubscription(spec, ref)
        if (spec.deadLetter !== false) await this.backstop(ref, spec.deadLetter, spec.maxAttempts)
        return url
      })
    }
    const ref = this.topology.temporaryRef()
    let subscriptionArn: string | undefined
    return this.startConsumer(
      ref,
      options,
      deliver,
      async (force) => {
        if (force) {
          this.topology.forget(ref.name)
          eventTopology?.forget(ref.name)
        }
        const url = await this.topology.queueUrl(ref)
        if (eventTopology) await eventTopology.ensureRule(spec, ref)
        else subscriptionArn = await this.topology.ensureSubscription(spec, ref)
        return url
      },
      async () => {
        await eventTopology?.removeRule(ref)
        await this.topology.removeTemporary(ref, subscriptionArn)
      },
    )
  }

  async openInbox(options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<Inbox> {
    this.assertOpen()
    const ref = this.topology.temporaryRef()
    const consumer = await this.startConsumer(
      ref,
      options,
      deliver,
      async (force) => {
        if (force) this.topology.forget(ref.name)
        return this.topology.queueUrl(ref)
      },
      () => this.topology.removeTemporary(ref, undefined),
      // Replies have no order to keep: several receives at once.
      4,
    )
    return { address: ref.name, close: () => consumer.close() }
  }

  /**
   * Up to `limit` messages, oldest first, read with VisibilityTimeout 0 so they stay available.
   * Approximate, as SQS is: repeated receives may return the same messages, so peek stops when a
   * round brings nothing new; each read also counts as a receive (ApproximateReceiveCount).
   */
  async peek(queue: QueueSpec, limit: number): Promise<IncomingMessage[]> {
    this.assertOpen()
    const ref = this.topology.queueRef(queue)
    const url = await this.topology.queueUrl(ref)
    const seen = new Map<string, SqsMessage>()
    for (let round = 0; seen.size < limit && round < Math.ceil(limit / 10) + 3; round++) {
      const messages = await this.receiveOnce(url, Math.min(10, limit - seen.size), 0, round === 0 ? 1 : 0, ref.name)
      let fresh = 0
      for (const message of messages) {
        if (message.MessageId && !seen.has(message.MessageId)) {
          seen.set(message.MessageId, message)
          fresh++
        }
      }
      if (fresh === 0) break
    }
    return [...seen.values()]
      .sort((a, b) => Number(a.Attributes?.SentTimestamp ?? 0) - Number(b.Attributes?.SentTimestamp ?? 0))
      .slice(0, limit)
      .map(decodeMessage)
  }

  /**
   * Receive → send to `to` → delete, 10 at a time; a batch the destination refused goes back at once.
   * A message whose id this move already sent was dead-lettered again meanwhile (a consumer of `to`
   * still fails it): it is put back and the move ends, or a redrive with a live consumer would never end.
   */
  async move(from: QueueSpec, to: Destination, limit: number, prepare: (message: IncomingMessage) => OutgoingMessage): Promise<number> {
    this.assertOpen()
    const ref = this.topology.queueRef(from)
    const url = await this.topology.queueUrl(ref)
    const movedIds = new Set<string>()
    let moved = 0
    while (moved < limit) {
      const received = (await this.receiveOnce(url, Math.min(10, limit - moved), 60, 1, ref.name)).flatMap((message) =>
        message.ReceiptHandle ? [{ receiptHandle: message.ReceiptHandle, message: decodeMessage(message) }] : [],
      )
      const fresh = received.filter((entry) => !movedIds.has(entry.message.id))
      const again = received.filter((entry) => movedIds.has(entry.message.id))
      const putBack = (entries: typeof received) =>
        Promise.allSettled(entries.map((entry) => this.visibility.add(ref.name, { receiptHandle: entry.receiptHandle, seconds: 0 })))
      if (again.length > 0) await putBack(again)
      if (fresh.length === 0) break
      try {
        await this.publish(
          to,
          fresh.map((entry) => prepare(entry.message)),
        )
      } catch (error) {
        await putBack(fresh)
        throw error
      }
      await Promise.all(fresh.map((entry) => this.deletes.add(ref.name, entry.receiptHandle)))
      for (const entry of fresh) movedIds.add(entry.message.id)
      moved += fresh.length
      if (again.length > 0) break
    }
    return moved
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (!this.config.closeWaitsForPolls) for (const consumer of this.consumers) consumer.abandonPolls()
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.close()))
    // Receives still waiting at SQS end within waitTimeSeconds; destroying the client before would only cut our side.
    const began = Date.now()
    if (this.config.closeWaitsForPolls) await Promise.allSettled([...this.polling])
    const flushed = Promise.allSettled(this.batchers().map((batcher) => batcher.idle()))
    // Counted from the close, not after the polls (which a silent endpoint holds for their whole wait); what a late poll hands back still gets a second.
    const waitMs = Math.max(batchersLastWaitMs, batchersWaitMs - (Date.now() - began))
    if (!(await settlesWithin(flushed, waitMs))) {
      this.logger.warn(
        `sqs connection: SQS did not answer the last batched settles and sends of the close in time; closing without them (unsettled messages are delivered again, unanswered sends are rejected)`,
      )
      for (const batcher of this.batchers()) batcher.abandon()
    }
    await this.destroy()
  }

  async terminate(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const consumer of this.consumers) consumer.terminate()
    this.consumers.clear()
    for (const batcher of this.batchers()) batcher.abandon()
    await this.destroy()
  }

  private async startConsumer(
    ref: QueueRef,
    options: TransportConsumeOptions,
    deliver: (delivery: Delivery) => void,
    provision: (force: boolean) => Promise<string>,
    removeQueue?: () => Promise<void>,
    pollers?: number,
  ): Promise<SqsConsumer> {
    const consumer: SqsConsumer = new SqsConsumer(
      ref,
      {
        pollClient: this.pollClient,
        waitTimeSeconds: this.config.waitTimeSeconds,
        defaultVisibilitySeconds: this.config.visibilityTimeoutSeconds,
        deletes: this.deletes,
        visibility: this.visibility,
        provision,
        // Ordered FIFO queues keep per-key order with concurrent receives (SQS locks a group while
        // any of its messages is in flight); elsewhere one poller keeps the best-effort order.
        pollers: pollers ?? (ref.fifo && ref.ordered ? 10 : this.config.pollers),
        connectionState: this.connectionState,
        logger: this.logger,
        onClose: async () => {
          this.consumers.delete(consumer)
          await removeQueue?.().catch((error: Error) => options.onError(error))
        },
      },
      options,
      deliver,
    )
    this.consumers.add(consumer)
    try {
      await consumer.start()
      const polled = consumer.polled()
      this.polling.add(polled)
      void polled.then(() => this.polling.delete(polled))
    } catch (error) {
      this.consumers.delete(consumer)
      await consumer.close().catch(() => {})
      throw wrapError(error, `starting a consumer of queue '${ref.name}'`)
    }
    return consumer
  }

  /** SQS's redrive policy as a backstop; a missing permission only costs the backstop, so it is logged. */
  private async backstop(ref: QueueRef, deadLetter: string, maxAttempts: number): Promise<void> {
    const fifo = this.config.queueType === 'fifo'
    await this.topology.ensureRedrive(ref, deadLetterRef(deadLetter, fifo), maxAttempts).catch((error: Error) => {
      this.logger.warn(`queue '${ref.name}': could not set the SQS redrive policy backstop (${error.message}); anymq still dead-letters failed messages itself`)
    })
  }

  private async receiveOnce(url: string, count: number, visibilitySeconds: number, waitSeconds: number, name: string): Promise<SqsMessage[]> {
    try {
      const result = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: count,
          VisibilityTimeout: visibilitySeconds,
          WaitTimeSeconds: waitSeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'SentTimestamp', 'MessageGroupId'],
        }),
      )
      return result.Messages ?? []
    } catch (error) {
      if (isQueueMissing(error)) this.topology.forget(name)
      throw wrapError(error, `receiving from queue '${name}'`)
    }
  }

  private async sendBatch(entries: SendEntry[]): Promise<EntryOutcome[]> {
    const first = entries[0] as SendEntry
    let url: string
    try {
      url = first.existing ? await this.topology.existingQueueUrl(first.ref.name) : await this.topology.queueUrl(first.ref)
    } catch (error) {
      const wrapped = wrapError(error, `sending to queue '${first.ref.name}'`, 'publish')
      const missingInbox = first.existing && isQueueMissing((wrapped as Error).cause)
      const failure = missingInbox
        ? new PublishError(`reply inbox '${first.ref.name}' no longer exists (its requester has gone)`, {
            adapter: adapterName,
            cause: error,
            retryable: false,
          })
        : wrapped
      return entries.map(() => ({ ok: false, error: failure, retryable: failure.isRetryable }))
    }
    try {
      const result = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: entries.map(({ wire }, index) => ({
            Id: String(index),
            MessageBody: wire.body,
            MessageAttributes: wire.attributes,
            ...(wire.delaySeconds > 0 ? { DelaySeconds: wire.delaySeconds } : {}),
            ...(wire.groupId !== undefined ? { MessageGroupId: wire.groupId } : {}),
            ...(wire.deduplicationId !== undefined ? { MessageDeduplicationId: wire.deduplicationId } : {}),
          })),
        }),
      )
      return batchOutcomes(entries.length, result.Successful, result.Failed, (failed) =>
        wrapError(Object.assign(new Error(failed.Message ?? failed.Code), { name: failed.Code }), `sending to queue '${first.ref.name}'`, 'publish'),
      )
    } catch (error) {
      if (isQueueMissing(error)) {
        // Deleted, or an emulator restarted empty: provision again and retry (an inbox is not ours to create).
        this.topology.forget(first.ref.name)
        const retryable = !first.existing
        const failure = first.existing
          ? new PublishError(`reply inbox '${first.ref.name}' no longer exists (its requester has gone)`, {
              adapter: adapterName,
              cause: error,
              retryable: false,
            })
          : wrapError(error, `sending to queue '${first.ref.name}'`, 'publish')
        return entries.map(() => ({ ok: false, error: failure, retryable }))
      }
      throw wrapError(error, `sending to queue '${first.ref.name}'`, 'publish')
    }
  }

  private async publishBatch(entries: PublishEntry[]): Promise<EntryOutcome[]> {
    const topic = (entries[0] as PublishEntry).topic
    const arn = await this.topology.topicArn(topic)
    try {
      const result = await this.sns.send(
        new PublishBatchCommand({
          TopicArn: arn,
          PublishBatchRequestEntries: entries.map(
            ({ wire }, index): PublishBatchRequestEntry => ({
              Id: String(index),
              Message: wire.body,
              MessageAttributes: wire.attributes,
            }),
          ),
        }),
      )
      return batchOutcomes(entries.length, result.Successful, result.Failed, (failed) =>
        wrapError(Object.assign(new Error(failed.Message ?? failed.Code), { name: failed.Code }), `publishing to topic '${topic}'`, 'publish'),
      )
    } catch (error) {
      if (/NotFound/i.test(errorCode(error))) {
        this.topology.forgetTopics()
        return entries.map(() => ({ ok: false, error: wrapError(error, `publishing to topic '${topic}'`, 'publish'), retryable: true }))
      }
      throw wrapError(error, `publishing to topic '${topic}'`, 'publish')
    }
  }

  private async deleteBatch(name: string, receipts: string[]): Promise<EntryOutcome[]> {
    const url = await this.topology.queueUrl({ name, fifo: name.endsWith('.fifo'), ordered: false })
    const result = await this.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: url, Entries: receipts.map((ReceiptHandle, index) => ({ Id: String(index), ReceiptHandle })) }),
    )
    return batchOutcomes(receipts.length, result.Successful, result.Failed, (failed) =>
      wrapError(Object.assign(new Error(failed.Message ?? failed.Code), { name: failed.Code }), `acknowledging (deleting) a message of queue '${name}'`),
    )
  }

  private async visibilityBatch(name: string, changes: VisibilityChange[]): Promise<EntryOutcome[]> {
    const url = await this.topology.queueUrl({ name, fifo: name.endsWith('.fifo'), ordered: false })
    const result = await this.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: changes.map((change, index) => ({ Id: String(index), ReceiptHandle: change.receiptHandle, VisibilityTimeout: change.seconds })),
      }),
    )
    return batchOutcomes(changes.length, result.Successful, result.Failed, (failed) =>
      wrapError(Object.assign(new Error(failed.Message ?? failed.Code), { name: failed.Code }), `changing the visibility of a message of queue '${name}'`),
    )
  }

  private batchers(): Array<{ idle(): Promise<void>; abandon(): void }> {
    return [this.sends, this.orderedSends, this.publishes, this.orderedPublishes, this.deletes, this.visibility, ...(this.eventPublisher?.batchers() ?? [])]
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('the aws connection', { adapter: adapterName })
  }

  private async destroy(): Promise<void> {
    this.sqs.destroy()
    this.pollClient.destroy()
    this.sns.destroy()
    this.events?.destroy()
  }
}

interface FailedEntry {
  Id?: string
  SenderFault?: boolean
  Code?: string
  Message?: string
}

/**
 * One outcome per entry from a batch response. A failed entry is retryable unless SQS/SNS blames the
 * sender; an entry the response does not mention at all (some emulators) counts as failed, retryable.
 */
function batchOutcomes(
  count: number,
  successful: { Id?: string }[] | undefined,
  failed: FailedEntry[] | undefined,
  toError: (failed: FailedEntry) => Error,
): EntryOutcome[] {
  const outcomes: EntryOutcome[] = Array.from({ length: count }, () => ({
    ok: false,
    error: new ConnectionError('the broker did not report this batch entry as sent or failed', { adapter: adapterName }),
    retryable: true,
  }))
  for (const entry of successful ?? []) {
    const index = Number(entry.Id)
    if (Number.isInteger(index) && index >= 0 && index < count) outcomes[index] = { ok: true }
  }
  for (const entry of failed ?? []) {
    const index = Number(entry.Id)
    if (Number.isInteger(index) && index >= 0 && index < count) outcomes[index] = { ok: false, error: toError(entry), retryable: entry.SenderFault !== true }
  }
  return outcomes
}

/** Whether a failed send never reached the service (refused, reset, timed out, 5xx): a connection problem, not a refusal of the message. */
function sendUnreachable(error: Error): boolean {
  return error instanceof AnymqError ? error.isRetryable : isRetryable(error)
}
