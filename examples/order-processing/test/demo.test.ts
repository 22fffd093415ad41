import { brokerUrl } from '@anymq/conformance'
import { EventBridgeClient, ListRulesCommand } from '@aws-sdk/client-eventbridge'
import { describe, expect, it } from 'vitest'
import { type DemoSummary, runDemo } from '../src/run-demo.js'

/** What the demo promises on every broker: every order accounted for, every event fanned out, per-customer order kept. */
function expectConsistent(summary: DemoSummary, orders: number): void {
  expect(summary.sent).toBe(orders)
  expect(summary.processed + summary.deadLettered).toBe(orders)
  expect(summary.redriven).toBeGreaterThanOrEqual(1)
  expect(summary.deadLettered).toBeGreaterThanOrEqual(1)
  expect(summary.retried).toBeGreaterThan(0)
  expect(summary.invoicing).toBe(summary.processed)
  expect(summary.notifications).toBe(summary.processed)
  expect(summary.orderViolations).toBe(0)
  expect(summary.deadLetters.every((letter) => letter.error.includes('discontinued') && letter.attempts === 3)).toBe(true)
}

describe('order-processing demo on memory://', () => {
  it('accounts for every order: sent = processed + dead-lettered, every event fanned out, order kept', async () => {
    const summary = await runDemo({ url: 'memory://demo-test', orders: 300, quiet: true })
    expectConsistent(summary, 300)
  })
})

// moto serves one request at a time: 30 orders (still three poison ones: one redriven, two left) keep each run short.
const emulatorOrders = 30

const kinesisUrl = brokerUrl('ANYMQ_KINESIS_URL', 'run scripts/brokers.sh up sqs (moto serves Kinesis)')
describe.skipIf(!kinesisUrl)(
  `order-processing demo on kinesis:// (moto)${kinesisUrl ? '' : ' — ANYMQ_KINESIS_URL unset: run scripts/brokers.sh up sqs'}`,
  () => {
    it('accounts for every order with queues, topic and reply inboxes as Kinesis streams', async () => {
      const summary = await runDemo({ url: kinesisUrl as string, orders: emulatorOrders, quiet: true, cleanUp: true })
      expect(summary.adapter).toBe('kinesis')
      expectConsistent(summary, emulatorOrders)
    }, 120_000)
  },
)

const sqsUrl = brokerUrl('ANYMQ_SQS_URL', 'run scripts/brokers.sh up sqs')
describe.skipIf(!sqsUrl)(
  `order-processing demo on sqs://…?topics=eventbridge (moto)${sqsUrl ? '' : ' — ANYMQ_SQS_URL unset: run scripts/brokers.sh up sqs'}`,
  () => {
    it('accounts for every order with the shipped events routed by EventBridge rules', async () => {
      const url = new URL(sqsUrl as string)
      url.searchParams.set('topics', 'eventbridge')
      const events = new EventBridgeClient({ region: url.hostname || 'us-east-1', endpoint: url.searchParams.get('endpoint') ?? undefined })
      // The demo's two subscriptions are two rules selecting its topic's detail-type on the default bus.
      const demoRules = async () => {
        let count = 0
        let token: string | undefined
        do {
          const page = await events.send(new ListRulesCommand({ EventBusName: 'default', NamePrefix: 'anymq-order-events-', NextToken: token }))
          count += (page.Rules ?? []).filter((rule) => rule.EventPattern?.includes('"order-events-')).length
          token = page.NextToken
        } while (token)
        return count
      }
      try {
        const before = await demoRules()
        const summary = await runDemo({ url: url.toString(), orders: emulatorOrders, quiet: true, cleanUp: true })
        expect(summary.adapter).toBe('aws')
        expectConsistent(summary, emulatorOrders)
        expect(await demoRules()).toBe(before + 2)
      } finally {
        events.destroy()
      }
    }, 120_000)
  },
)
