import type { Anymq, Message } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestBroker, type TestBroker } from '../src/index.js'

interface Payment {
  account: string
  amount: number
}

const payments: Payment[] = Array.from({ length: 30 }, (_, index) => ({ account: `acct-${index % 3}`, amount: index + 1 }))
const expectedTotal = payments.reduce((total, payment) => total + payment.amount, 0)

// The bug users ship: crediting on every delivery, as if delivery were exactly-once.
function nonIdempotentLedger() {
  const balances = new Map<string, number>()
  const handler = async (message: Message<Payment>) => {
    balances.set(message.body.account, (balances.get(message.body.account) ?? 0) + message.body.amount)
  }
  return { handler, total: () => [...balances.values()].reduce((total, value) => total + value, 0) }
}

// The fix: remember which message ids were applied.
function idempotentLedger() {
  const applied = new Set<string>()
  const ledger = nonIdempotentLedger()
  const handler = async (message: Message<Payment>) => {
    if (applied.has(message.id)) return
    await ledger.handler(message)
    applied.add(message.id)
  }
  return { handler, total: ledger.total }
}

const open: Anymq[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((mq) => mq.close()))
})

async function run(broker: TestBroker, handler: (message: Message<Payment>) => Promise<void>): Promise<number> {
  const mq = await broker.connect()
  open.push(mq)
  const queue = mq.queue<Payment>('payments', { retry: false, deadLetter: false })
  await queue.consume(handler, { concurrency: 4 }).ready
  for (const payment of payments) await queue.send(payment, { key: payment.account })
  await broker.until('payments').received(payments.length)
  // Let chaos duplicates and redeliveries arrive too, then count what was handled.
  await new Promise((resolve) => setTimeout(resolve, 300))
  return broker.handled('payments').length
}

describe('chaos mode of the memory broker', () => {
  it('a plain memory run passes the non-idempotent ledger', async () => {
    const ledger = nonIdempotentLedger()
    const handled = await run(createTestBroker(), ledger.handler)
    expect(handled).toBe(payments.length)
    expect(ledger.total()).toBe(expectedTotal)
  })

  it('the seeded chaos run catches it: duplicates and redeliveries credit twice', async () => {
    const ledger = nonIdempotentLedger()
    const handled = await run(createTestBroker({ chaos: { seed: 7, duplicate: 0.2, redeliver: 0.2 } }), ledger.handler)
    expect(handled).toBeGreaterThan(payments.length)
    expect(ledger.total()).toBeGreaterThan(expectedTotal)
  })

  it('the same chaos leaves an idempotent ledger correct', async () => {
    const ledger = idempotentLedger()
    const handled = await run(createTestBroker({ chaos: { seed: 7, duplicate: 0.2, redeliver: 0.2 } }), ledger.handler)
    expect(handled).toBeGreaterThan(payments.length)
    expect(ledger.total()).toBe(expectedTotal)
  })
})
