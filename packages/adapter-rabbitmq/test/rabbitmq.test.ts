import { once } from 'node:events'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { Collector, startTcpRelay } from '@anymq/conformance'
import { AbortedError, type Anymq, AnymqError, ConfigError, ConnectionError, connect, silentLogger, transportOf } from '@anymq/core'
import type { Transport } from '@anymq/core/spi'
import amqplib from 'amqplib'
import { describe, expect, it, vi } from 'vitest'
import { adapter } from '../src/index.js'
import { queueBrokerOptions, resolveConfig } from '../src/rabbitmq-config.js'
import type { RabbitConnection } from '../src/rabbitmq-connection.js'
import { RabbitConsumer } from '../src/rabbitmq-consumer.js'
import { delayBucket, delayQueueArguments } from '../src/rabbitmq-topology.js'
import { connectTest, uniqueName, url } from './test-connections.js'

/** Drops the socket under a live connection, as a network failure would (no AMQP close handshake). */
function cutNetwork(mq: Anymq, reason?: Error): void {
  const connection = (transportOf(mq) as unknown as { connection: { current?: { connection: { stream: { destroy(error?: Error): void } } } } }).connection
  connection.current?.connection.stream.destroy(reason)
}

describe('rabbitmq options', () => {
  it('checks connect options with core validator: every problem at once, each naming the field and what is allowed', () => {
    const error = (() => {
      try {
        resolveConfig(new URL('amqp://h?heartbeat=often'), { queueType: 'stream', connectTimeoutMs: 0, tls: 'yes', typo: 1 }, adapter.capabilities)
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems.map((problem) => `${problem.field}: ${problem.message}`)).toEqual([
      "url ?heartbeat: 'often' is not an integer in 0..65535",
      "broker.queueType: expected one of 'classic', 'quorum', got 'stream'",
      'broker.connectTimeoutMs: expected an integer from 1 to 2147483647, got 0',
      'broker.tls: expected an object of Node TLS options, got a string',
      'broker.typo: unknown option; allowed: queueType, provision, tls, connectionName, connectTimeoutMs, reconnectWaitMs, reconnectInitialDelayMs, reconnectMaxDelayMs, timestampPrecision, bindingCheckMs',
    ])
  })

  it('declares queueType as the one per-queue broker option, checked by core when the handle is made', async () => {
    expect(adapter.queueBrokerOptions).toBe(queueBrokerOptions)
    expect(Object.keys(queueBrokerOptions)).toEqual(['queueType'])
    // Core runs the declared checks when the handle is made, before anything reaches a broker: a transport that does nothing is enough.
    const idle = { close: async () => {}, terminate: async () => {} } as unknown as Transport
    const mq = await connect('amqp://offline', { adapter: { ...adapter, connect: async () => idle } })
    try {
      expect(() => mq.queue('q', { broker: { queueType: 'stream', durable: true } })).toThrow(
        "[anymq] [rabbitmq] queue('q') options.broker.queueType: expected one of 'classic', 'quorum', got 'stream'; queue('q') options.broker.durable: unknown option; allowed: queueType",
      )
      mq.queue('q', { broker: { queueType: 'quorum' } })
    } finally {
      await mq.close()
    }
  })
})

describe('delay buckets', () => {
  it('never delivers sooner than asked and at most 12.5% later', () => {
    for (const ms of [1, 7, 16, 17, 50, 99, 300, 1000, 1500, 4097, 65_537, 3_600_001, 604_800_000]) {
      const bucket = delayBucket(ms)
      expect(bucket).toBeGreaterThanOrEqual(ms)
      expect(bucket).toBeLessThanOrEqual(Math.ceil(ms * 1.125))
    }
  })

  it('keeps the number of delay queues small', () => {
    const buckets = new Set<number>()
    for (let ms = 1; ms <= 604_800_000; ms = Math.ceil(ms * 1.01)) buckets.add(delayBucket(ms))
    expect(buckets.size).toBeLessThan(260)
  })

  it("keeps a delay queue for a week after its last use, within RabbitMQ's 32-bit x-expires", () => {
    for (const ms of [1, 1000, 4097, 3_600_001, 604_800_000]) {
      const expires = delayQueueArguments(delayBucket(ms))['x-expires'] as number
      // A lease of minutes lost every message a delay queue held across a restart of a busy broker (see the README).
      expect(expires).toBeGreaterThanOrEqual(7 * 24 * 3_600_000 + 2 * delayBucket(ms))
      expect(expires).toBeLessThanOrEqual(2 ** 31 - 1)
    }
  })
})

describe.skipIf(!url)(`rabbitmq adapter specifics${!url ? ' (ANYMQ_RABBITMQ_URL unset: run scripts/brokers.sh up rabbitmq)' : ''}`, () => {
  it('reports every bad URL parameter and broker option at once, without the password', async () => {
    const bad = new URL(url!)
    bad.password = 'hunter2-secret'
    bad.searchParams.set('heartbeat', 'often')
    bad.searchParams.set('color', 'blue')
    const error = await connect(bad.toString(), { adapter, broker: { queueType: 'stream', typo: 1 } }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    const fields = (error as ConfigError).problems.map((problem) => problem.field).sort()
    expect(fields).toEqual(['broker.queueType', 'broker.typo', 'url ?color', 'url ?heartbeat'])
    expect((error as Error).message).not.toContain('hunter2-secret')
  })

  it('fails to connect with a ConnectionError that does not contain the password', async () => {
    const wrong = new URL(url!)
    wrong.password = 'not-the-password-42'
    const error = await connect(wrong.toString(), { adapter, logger: silentLogger }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    expect(String((error as Error).message)).not.toContain('not-the-password-42')
    expect(String((error as Error).stack)).not.toContain('not-the-password-42')
  })

  it('with provision: false, refuses a queue that does not exist with a ConfigError', async () => {
    const mq = await connectTest({ provision: false })
    const error = await mq
      .queue(uniqueName('missing'))
      .send('x')
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toMatch(/does not exist/)
  })

  it('names the queue when it exists with another queue type', async () => {
    const name = uniqueName('mismatch')
    const mq = await connectTest()
    await mq.queue(name).send('x')
    const error = await mq
      .queue(name, { broker: { queueType: 'quorum' } })
      .send('y')
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toContain(name)
    expect((error as Error).message).toContain('x-queue-type')
    // The failed declaration did not break the connection for the others.
    await mq.queue(name).send('z')
  })

  it('declares a queue deleted behind its back again and sends once more: the send resolves, nothing is lost or doubled', async () => {
    const name = uniqueName('deleted')
    const mq = await connectTest()
    const queue = mq.queue<string>(name)
    await queue.send('first')
    const plain = await amqplib.connect(url!)
    plain.on('error', () => {})
    try {
      const channel = await plain.createChannel()
      await channel.deleteQueue(name)
    } finally {
      await plain.close()
    }
    // Before, this send was returned unrouted and rejected (PublishError 'could not route'); the next one declared the queue.
    await queue.send('kept')
    await queue.send('again')
    const seen = new Collector<string>()
    await queue.consume(seen.handler).ready
    await seen.waitForCount(2, 10_000)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(seen.bodies).toEqual(['kept', 'again'])
  })

  it('counts peeked dead letters in stats() as soon as peek() resolves (classic and quorum)', async () => {
    for (const queueType of ['classic', 'quorum']) {
      const mq = await connectTest({ queueType })
      const queue = mq.queue<number>(uniqueName(`peek-count-${queueType}`))
      const dead = mq.queue<number>(`${queue.name}.dlq`)
      await dead.sendBatch(Array.from({ length: 2_000 }, (_, index) => index))
      expect(await queue.deadLetters().peek(2_000)).toHaveLength(2_000)
      expect((await queue.stats()).deadLettered, queueType).toBe(2_000)
      await dead.delete()
    }
  })

  it('honours a send signal while the destination is still being declared (queue, topic), the network silent', async () => {
    const relay = await startTcpRelay(new URL(url!))
    const mq = await connect(relay.url.href, { adapter, logger: silentLogger })
    try {
      relay.freeze()
      // Never used on this connection: the send first declares it, which waits on the silent network.
      for (const send of [
        (signal: AbortSignal) => mq.queue<string>(uniqueName('signal-fresh')).send('x', { signal }),
        (signal: AbortSignal) => mq.topic<string>(uniqueName('signal-fresh-topic')).publish('x', { signal }),
      ]) {
        const started = Date.now()
        const error = await send(AbortSignal.timeout(300)).catch((caught: unknown) => caught)
        expect(error).toBeInstanceOf(AbortedError)
        expect(Date.now() - started).toBeLessThan(3_000)
      }
    } finally {
      await relay.close()
      await mq.close()
    }
  })

  it('drops the half-open socket at once when the connect signal fires, and ignores that signal once connected', async () => {
    const sockets = new Set<Socket>()
    const silent = createServer((socket) => {
      sockets.add(socket)
      // Reads (and drops) the AMQP header, so that the client's close reaches 'close' here.
      socket.resume()
      socket.on('close', () => sockets.delete(socket))
    })
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    const { port } = silent.address() as AddressInfo
    try {
      const attempt = connect(`amqp://guest:guest@127.0.0.1:${port}`, {
        adapter,
        logger: silentLogger,
        broker: { connectTimeoutMs: 60_000 },
        signal: AbortSignal.timeout(300),
      })
      await expect(attempt).rejects.toBeInstanceOf(AbortedError)
      // Before, the socket stayed open (and held the process) until connectTimeoutMs.
      await vi.waitFor(() => expect(sockets.size).toBe(0), { timeout: 5_000 })
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
    const controller = new AbortController()
    const mq = await connect(url!, { adapter, logger: silentLogger, signal: controller.signal })
    const states: string[] = []
    mq.onConnectionState((event) => states.push(event.state))
    try {
      controller.abort()
      await new Promise((resolve) => setTimeout(resolve, 300))
      const name = uniqueName('signal-after-connect')
      await mq.queue<string>(name).send('still connected')
      // A socket cut by the late abort would show as a reconnect (the send itself would then succeed).
      expect(states).toEqual([])
      await mq.queue(name).delete()
    } finally {
      await mq.close()
    }
  })

  it('settles publishes in flight when the network drops, reconnects, and resumes its consumer', async () => {
    const name = uniqueName('netcut')
    const [producer, consumer] = [await connectTest(), await connectTest()]
    const seen = new Collector<number>()
    const errors: Error[] = []
    await consumer.queue<number>(name).consume(seen.handler, { concurrency: 4, onError: (error) => errors.push(error) }).ready
    const queue = producer.queue<number>(name)
    await queue.send(0)
    const inFlight = queue.sendBatch(Array.from({ length: 2000 }, (_, index) => index + 1))
    // One socket fails with an error (a reset), the other is just gone (closed without a word).
    cutNetwork(producer)
    cutNetwork(consumer, Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))
    // Never left hanging: either confirmed before the cut, or rejected with a retryable error.
    const outcome = await inFlight.then(
      () => 'confirmed',
      (error: unknown) => error,
    )
    if (outcome !== 'confirmed') {
      expect(AnymqError.isInstance(outcome) && outcome.isRetryable).toBe(true)
      await queue.sendBatch(Array.from({ length: 2000 }, (_, index) => index + 1))
    }
    await queue.send(2001)
    await seen.waitForDistinct(2002, 30_000)
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.every((error) => AnymqError.isInstance(error) && error.isRetryable)).toBe(true)
    expect(seen.distinct).toBe(2002)
  })

  it('delivers a message whose retry goes through a delay queue to the same ephemeral subscriber', async () => {
    const mq = await connectTest()
    const topic = mq.topic<string>(uniqueName('eph-retry'), { retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 200, jitter: false } } })
    const attempts: number[] = []
    const done = new Collector<string>()
    await topic.subscribe(undefined, (message) => {
      attempts.push(message.attempt)
      if (message.attempt === 1) throw new Error('once')
      done.add(message)
    }).ready
    await topic.publish('hello')
    await done.waitForCount(1, 10_000)
    expect(attempts).toEqual([1, 2])
  })

  it('removes what a consumer prepared when its first start fails half way (queue made, consume refused)', async () => {
    const mq = await connectTest()
    const connection = (transportOf(mq) as unknown as { connection: RabbitConnection }).connection
    const cleanups: string[] = []
    const consumer = new RabbitConsumer(
      connection,
      silentLogger,
      {
        describe: 'a half-made inbox',
        // Prepared, but names a queue that does not exist, so basic.consume is refused (404).
        prepare: async () => uniqueName('missing'),
        republish: async () => {},
        cleanup: async () => {
          cleanups.push('cleaned')
        },
      },
      { prefetch: 1, leaseMs: undefined, onError: () => {} },
      () => {},
      100,
    )
    await expect(consumer.start()).rejects.toBeInstanceOf(ConnectionError)
    expect(cleanups).toEqual(['cleaned'])
  })
})
