import { brokerUrl, startTcpRelay, uniqueName } from '@anymq/conformance'
import { type Anymq, connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

// A server that stops answering and keeps its sockets never makes a socket fail: a send on it waited
// for as long as that lasted. The relay drops what it is given while frozen, so a command written then
// never reaches Redis: without ?answerTimeoutMs its send would wait forever, even after the thaw.
describe.skipIf(!url)('a command connection whose server stops answering (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  })

  it.each(drivers)(
    '%s: drops the socket after ?answerTimeoutMs and sends what was unanswered again on a new one',
    async (driver) => {
      const relay = await startTcpRelay(new URL(url as string))
      cleanups.push(() => relay.close())
      const relayed = relay.url
      relayed.searchParams.set('answerTimeoutMs', '2000')
      relayed.searchParams.set('connectTimeoutMs', '1000')
      const warnings: string[] = []
      const mq: Anymq = await connect(withDriver(relayed.href, driver), {
        adapter,
        logger: { debug() {}, info() {}, warn: (line: string) => warnings.push(line), error() {} },
      })
      cleanups.push(() => mq.close())
      const queue = mq.queue<{ n: number }>(uniqueName('answer-timeout'))
      cleanups.push(() => queue.purge().then(() => undefined))
      await queue.send({ n: 1 })

      relay.freeze()
      let settled: string | undefined
      const sending = queue.send({ n: 2 }).then(
        () => {
          settled = 'sent'
        },
        (error: Error) => {
          settled = `failed: ${error.message}`
        },
      )
      // Past the bound (and the watchdog's one-second look), the server still silent.
      await new Promise((resolve) => setTimeout(resolve, 3500))
      relay.thaw()
      const deadline = Date.now() + 15_000
      while (settled === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(settled, 'the send still waited 15 s after the server answered again').toBe('sent')
      await sending
      expect(
        warnings.some((line) => line.includes('answerTimeoutMs')),
        warnings.join('\n'),
      ).toBe(true)

      const received: number[] = []
      const consumer = queue.consume(async (message) => {
        received.push(message.body.n)
      })
      await consumer.ready
      const until = Date.now() + 10_000
      while (received.length < 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
      await consumer.close()
      expect(received.sort()).toEqual([1, 2])
    },
    45_000,
  )
})
