import { type Anymq, connect } from '@anymq/core'
import { adapter as rabbitmqAdapter } from '@anymq/rabbitmq'
import amqplib from 'amqplib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Inbox, postgresInbox, sqliteInbox } from '../src/index.js'
import { openSqlite, rabbitmqUrl, type StoreFixture, stores, uniqueName, unsetReason, waitUntil } from './fixtures.js'
import { spawnRelay } from './relay-process.js'

const total = 3000
const accounts = 7

interface Payment {
  account: string
  amount: number
  sequence: number
}

/**
 * The acceptance test of the outbox: the relay is a process of its own, SIGKILLed while a batch is
 * published but not yet marked sent, and started again. Every committed message must arrive, the
 * duplicates the kill causes are counted, and the inbox keeps them from having a second effect.
 */
for (const store of stores) {
  describe.skipIf(!store.available || !rabbitmqUrl)(
    `relay process killed mid-batch, on ${store.name} with RabbitMQ${unsetReason(...store.needs, 'rabbitmq')}`,
    () => {
      let fixture: StoreFixture<any>
      let mq: Anymq
      let closeInbox: () => Promise<void>
      let inbox: Inbox<any>
      let balancesTable: string

      beforeAll(async () => {
        fixture = await store.create()
        mq = await connect(rabbitmqUrl!, { adapter: rabbitmqAdapter })
        balancesTable = `${fixture.tables.inbox}_balances`
        await fixture.query(`CREATE TABLE ${balancesTable} (account text PRIMARY KEY, balance bigint NOT NULL, payments integer NOT NULL)`)
        if (store.name === 'postgres') {
          const { Pool } = (await import('pg')).default
          const pool = new Pool({ connectionString: fixture.databaseUrl, max: 8 })
          inbox = postgresInbox({ pool, consumer: 'ledger', table: fixture.tables.inbox })
          closeInbox = () => pool.end()
        } else {
          const db = openSqlite(fixture.databaseUrl.replace(/^sqlite:/, ''))
          inbox = sqliteInbox({ database: db, consumer: 'ledger', table: fixture.tables.inbox })
          closeInbox = async () => {
            db.close()
          }
        }
      })

      afterAll(async () => {
        await mq?.close()
        await closeInbox?.()
        await fixture?.query(`DROP TABLE IF EXISTS ${balancesTable}`).catch(() => {})
        await fixture?.close()
      })

      it('delivers every committed message at least once, and the inbox leaves the state of a run without the crash', async () => {
        const queueName = uniqueName('crash')
        const queue = mq.queue<Payment>(queueName)
        // Provision the queue as the consumer declares it; the consumer itself attaches after the kill.
        const provision = queue.consume(() => {})
        await provision.ready
        await provision.close()
        const deliveries: string[] = []
        const unique = new Set<string>()
        const apply = inbox.handle<Payment>(async (message, tx) => {
          const sql = `INSERT INTO ${balancesTable} (account, balance, payments) VALUES (${store.name === 'postgres' ? '$1, $2, 1' : '?, ?, 1'})
          ON CONFLICT (account) DO UPDATE SET balance = ${balancesTable}.balance + excluded.balance, payments = ${balancesTable}.payments + 1`
          if (store.name === 'postgres') await tx.query(sql, [message.body.account, message.body.amount])
          else tx.prepare(sql).run(message.body.account, message.body.amount)
        })

        // The application commits its payments (and nothing else) before and while the relay runs.
        const expected = new Map<string, { balance: number; payments: number }>()
        const payments: Payment[] = Array.from({ length: total }, (_, sequence) => ({
          account: `acct-${sequence % accounts}`,
          amount: 1 + (sequence % 97),
          sequence,
        }))
        for (const payment of payments) {
          const entry = expected.get(payment.account) ?? { balance: 0, payments: 0 }
          entry.balance += payment.amount
          entry.payments += 1
          expected.set(payment.account, entry)
        }
        for (let start = 0; start < total; start += 100) {
          const chunk = payments.slice(start, start + 100)
          await fixture.commit((tx) => fixture.outbox.addBatch(tx, queueName, chunk, (payment) => ({ key: payment.account })))
        }

        const args = ['--database', fixture.databaseUrl, '--broker', rabbitmqUrl!, '--adapter', '@anymq/rabbitmq', '--outbox-table', fixture.tables.outbox]
        args.push('--dead-letter-table', fixture.tables.deadLetters, '--batch-size', '500', '--lease-ms', '2000', '--publish-timeout-ms', '1500')
        const first = spawnRelay(args)
        // Kill it while a batch is on its way: in the broker's queue (no consumer yet) but not yet marked sent.
        const amqp = await amqplib.connect(rabbitmqUrl!)
        const channel = await amqp.createChannel()
        let midBatch = false
        let inQueue = 0
        try {
          const deadline = Date.now() + 60_000
          while (!midBatch && inQueue < total / 2) {
            if (first.process.exitCode !== null) throw new Error(`the relay exited early:\n${first.output()}`)
            if (Date.now() > deadline) throw new Error(`the relay published nothing in 60 s:\n${first.output()}`)
            const sent = await fixture.count(fixture.tables.outbox, 'sent_at IS NOT NULL')
            inQueue = (await channel.checkQueue(queueName)).messageCount
            midBatch = inQueue > sent
          }
        } finally {
          first.process.kill('SIGKILL')
          await amqp.close()
        }
        await first.exited
        // Rows in the broker that the database does not know were sent: the restart publishes them again.
        const sentAtKill = await fixture.count(fixture.tables.outbox, 'sent_at IS NOT NULL')
        expect(sentAtKill).toBeLessThan(total)

        const subscription = queue.consume(
          async (message) => {
            deliveries.push(message.id)
            unique.add(message.id)
            await apply(message)
          },
          { concurrency: 8 },
        )
        await subscription.ready
        const second = spawnRelay(args)
        try {
          await waitUntil(() => unique.size === total, 90_000, `all ${total} messages (have ${unique.size})`)
          await waitUntil(async () => (await fixture.outbox.pendingCount()) === 0, 30_000, 'an empty outbox')
          await waitUntil(() => inbox.counts.processed + inbox.counts.duplicates === deliveries.length, 30_000, 'every delivery handled')
        } finally {
          second.process.kill('SIGTERM')
          await second.exited
        }
        await subscription.close()

        const duplicates = deliveries.length - unique.size
        console.log(
          `[crash test, ${store.name}] killed ${midBatch ? 'mid-batch' : 'between batches'}: at least ${inQueue} messages in the broker, ${sentAtKill} rows marked sent; ${deliveries.length} deliveries of ${total} messages, ${duplicates} duplicates, inbox skipped ${inbox.counts.duplicates}`,
        )
        if (midBatch) expect(duplicates).toBeGreaterThanOrEqual(inQueue - sentAtKill)
        expect(inbox.counts.processed).toBe(total)
        expect(inbox.counts.duplicates).toBe(duplicates)
        // The final state equals a run without the crash: every payment applied exactly once.
        const rows = await fixture.query(`SELECT account, balance, payments FROM ${balancesTable} ORDER BY account`)
        const actual = new Map(rows.map((row) => [String(row.account), { balance: Number(row.balance), payments: Number(row.payments) }]))
        expect(actual).toEqual(expected)
      })
    },
  )
}
