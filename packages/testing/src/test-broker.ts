import { type Anymq, connect } from '@anymq/core'
import type { AdapterFactory, Delivery, Destination, OutgoingMessage, Source, Transport } from '@anymq/core/spi'
import { PublishError, validateOptions } from '@anymq/core/spi'
import { adapter as memory } from '@anymq/memory'
import { testBrokerOptionChecks } from './chaos-options.js'
import { decodeBody } from './decode-body.js'
import { seededRandom } from './seeded-random.js'
import { HandledLog, type Until, untilOf } from './until.js'

/**
 * Faults the chaos mode injects, each a probability per message (0 = never, the default). All are
 * faults a real broker produces under at-least-once delivery; a correct handler survives every one.
 */
export interface ChaosOptions {
  /** Seed of the random source: the same seed and the same test give the same faults. Default 1. */
  seed?: number
  /** A published message is stored twice (the producer retried after a lost confirm). */
  duplicate?: number
  /** A handled message's ack is lost, so it is delivered again (the lease expired first). At most once per message. */
  redeliver?: number
  /** A send fails with a retryable `PublishError`, and the broker has none of its messages. */
  failSends?: number
  /** Each message waits up to this many ms before reaching the broker; messages of different keys overtake each other, one key keeps its order. Default 0. */
  maxDelayMs?: number
}

/** A recorded send: what reached a queue or topic, decoded. */
export interface SentMessage {
  readonly id: string
  readonly body: unknown
  readonly headers: Readonly<Record<string, string>>
  readonly key: string | undefined
}

/**
 * An in-process broker (`memory://`) for users' tests that records every send, knows what each queue
 * handled, and in chaos mode injects duplicates, redeliveries, delays that reorder keys and failed
 * sends. Connections made with {@link TestBroker.connect} share it.
 */
export interface TestBroker {
  /** The adapter to pass to `connect(url, { adapter })`. */
  readonly adapter: AdapterFactory
  /** Opens a connection to this broker. */
  connect(): Promise<Anymq>
  /** Messages published so far to a queue or topic, in the order the broker accepted them (without chaos duplicates). */
  sent(name: string): readonly SentMessage[]
  /** Bodies the consumers of queue `name` (or `topic/subscription`) handled so far, one per delivery, duplicates included. */
  handled(name: string): readonly unknown[]
  /** Waits on what the consumers of queue `name` (or `topic/subscription`) handled. */
  until(name: string | { name: string }): Until
}

let brokers = 0

/** Creates a {@link TestBroker}; pass `chaos` for the seeded chaos mode. */
export function createTestBroker(options: { chaos?: ChaosOptions } = {}): TestBroker {
  validateOptions(options, testBrokerOptionChecks, 'createTestBroker options', 'testing')
  const chaos = options.chaos
  const random = seededRandom(chaos?.seed ?? 1)
  const sent = new Map<string, SentMessage[]>()
  const handled = new Map<string, HandledLog>()
  const logOf = (name: string) => {
    let log = handled.get(name)
    if (!log) handled.set(name, (log = new HandledLog()))
    return log
  }
  const redelivered = new Set<string>()
  const keyChains = new Map<string, Promise<unknown>>()
  const url = `memory://anymq-testing-${++brokers}`

  const delayed = async (message: OutgoingMessage, forward: () => Promise<void>) => {
    const wait = Math.floor(random() * (chaos?.maxDelayMs ?? 0))
    const sleep = () => new Promise((resolve) => setTimeout(resolve, wait))
    if (message.key === undefined) {
      await sleep()
      return forward()
    }
    // One key's messages pass one at a time, so delays reorder keys, never one key.
    const previous = keyChains.get(message.key) ?? Promise.resolve()
    const next = previous.then(sleep).then(forward)
    keyChains.set(
      message.key,
      next.catch(() => {}),
    )
    return next
  }

  const wrap = (transport: Transport): Transport => ({
    capabilities: transport.capabilities,
    async publish(destination, messages, signal) {
      const name = destinationName(destination)
      if (chaos && name !== undefined) {
        if (random() < (chaos.failSends ?? 0)) throw new PublishError('chaos: the send failed (testing chaos mode)', { adapter: 'memory', retryable: true })
        const stored: OutgoingMessage[] = []
        for (const message of messages) {
          stored.push(message)
          if (random() < (chaos.duplicate ?? 0)) stored.push(message)
        }
        record(name, messages)
        if ((chaos.maxDelayMs ?? 0) > 0) await Promise.all(stored.map((message) => delayed(message, () => transport.publish(destination, [message], signal))))
        else await transport.publish(destination, stored, signal)
        return
      }
      await transport.publish(destination, messages, signal)
      if (name !== undefined) record(name, messages)
    },
    consume(source, consumeOptions, deliver) {
      const log = logOf(sourceName(source))
      return transport.consume(source, consumeOptions, (delivery) => deliver(observed(delivery, log)))
    },
    openInbox: (inboxOptions, deliver) => transport.openInbox(inboxOptions, deliver),
    peek: (queue, limit) => transport.peek(queue, limit),
    move: (from, to, limit, prepare) => transport.move(from, to, limit, prepare),
    // memory:// declares every admin call (stats, purge, delete, list, dead letters by id): without
    // its admin, core would refuse each of them although the capabilities say they are there.
    ...(transport.admin ? { admin: transport.admin } : {}),
    close: () => transport.close(),
    terminate: () => transport.terminate(),
  })

  const record = (name: string, messages: readonly OutgoingMessage[]) => {
    let list = sent.get(name)
    if (!list) sent.set(name, (list = []))
    for (const message of messages) list.push({ id: message.id, body: decodeBody(message), headers: message.headers, key: message.key })
  }

  const observed = (delivery: Delivery, log: HandledLog): Delivery => {
    const settled = async (settle: () => Promise<void>) => {
      await settle()
      log.add(decodeBody(delivery.message))
    }
    return {
      message: delivery.message,
      raw: delivery.raw,
      ack: () =>
        settled(() => {
          const id = delivery.message.id
          if (chaos && !redelivered.has(id) && random() < (chaos.redeliver ?? 0)) {
            redelivered.add(id)
            return delivery.release()
          }
          return delivery.ack()
        }),
      retry: (retryOptions) => settled(() => delivery.retry(retryOptions)),
      release: () => delivery.release(),
      extendLease: (ms) => delivery.extendLease(ms),
    }
  }

  const adapter: AdapterFactory = {
    ...memory,
    connect: async (connectUrl, context) => wrap(await memory.connect(connectUrl, context)),
  }
  return {
    adapter,
    connect: () => connect(url, { adapter }),
    sent: (name) => sent.get(name) ?? [],
    handled: (name) => [...logOf(name).bodies],
    until: (name) => {
      const label = typeof name === 'string' ? name : name.name
      return untilOf(label, logOf(label))
    },
  }
}

function destinationName(destination: Destination): string | undefined {
  if (destination.kind === 'queue') return destination.queue.name
  if (destination.kind === 'topic') return destination.topic
  return undefined
}

function sourceName(source: Source): string {
  return source.kind === 'queue' ? source.queue.name : `${source.subscription.topic}/${source.subscription.name ?? '(ephemeral)'}`
}
