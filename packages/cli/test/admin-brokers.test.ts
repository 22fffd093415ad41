import { brokerUrl } from '@anymq/conformance'
import { type Anymq, connect, Unrecoverable } from '@anymq/core'
import '@anymq/kafka'
import '@anymq/nats'
import '@anymq/redis'
import { afterEach, describe, expect, it } from 'vitest'
import { anymq } from './run-cli.js'

/** `anymq stats` and `anymq dlq` on the brokers whose adapters serve admin calls; one cheap case each. */
const brokers = [
  { name: 'Redis', url: brokerUrl('ANYMQ_REDIS_URL'), byId: true },
  { name: 'NATS', url: brokerUrl('ANYMQ_NATS_URL'), byId: true },
  // A log cannot remove one record: the CLI must say why, not pretend.
  { name: 'Kafka', url: brokerUrl('ANYMQ_KAFKA_URL'), byId: false },
]

const open: Anymq[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((mq) => mq.close()))
})

for (const broker of brokers) {
  describe.skipIf(!broker.url)(`anymq stats and dlq on ${broker.name}${broker.url ? '' : ' (URL unset: run scripts/brokers.sh up)'}`, () => {
    it('prints the depths of a queue and takes one dead letter by id where the broker can', { timeout: 60_000 }, async () => {
      const url = broker.url as string
      const mq = await connect(url)
      open.push(mq)
      const name = `cli-admin-${Date.now().toString(36)}`
      const queue = mq.queue<string>(name, { retry: false })
      const { id: dead } = await queue.send('bad')
      const refusing = queue.consume(() => {
        throw new Unrecoverable('refused by the CLI test')
      })
      for (let letters = 0; letters < 1; letters = (await queue.deadLetters().peek(5)).length) await new Promise((resolve) => setTimeout(resolve, 100))
      await refusing.close()
      await queue.send('waiting')

      const stats = await anymq('stats', url, name)
      expect(stats.code).toBe(0)
      const row = stats.stdout.trim().split('\n')[1] ?? ''
      // ready, in flight (or '-' where the broker cannot tell), dead-lettered, consumers.
      expect(row).toMatch(new RegExp(`^${name} +1 +(0|-) +1 +0 `))

      const peek = await anymq('dlq', 'peek', url, name)
      expect(JSON.parse(peek.stdout.trim()).id).toBe(dead)
      const deleted = await anymq('dlq', 'delete-one', url, name, dead)
      if (broker.byId) {
        expect(deleted).toMatchObject({ code: 0, stdout: `deleted ${dead} from ${name}.dlq\n` })
        expect((await anymq('dlq', 'peek', url, name)).stdout).toBe('')
      } else {
        expect(deleted.code).toBe(1)
        expect(deleted.stderr).toMatch(/not supported by the kafka adapter; a Kafka topic is an append-only log/)
        expect(JSON.parse((await anymq('dlq', 'peek', url, name)).stdout.trim()).id).toBe(dead)
      }
      await mq.queue(name).delete()
      await mq.queue(`${name}.dlq`, { deadLetter: false }).delete()
    })
  })
}
