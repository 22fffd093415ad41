import { randomBytes } from 'node:crypto'
import { brokerUrl } from '@anymq/conformance'
import { type Anymq, connect, silentLogger } from '@anymq/core'
import { afterEach } from 'vitest'
import { adapter } from '../src/index.js'

/** The test broker's URL (`scripts/brokers.sh env`), undefined when unset. */
export const url = brokerUrl('ANYMQ_RABBITMQ_URL')
const open: Anymq[] = []

/** Closes, after each test of the file that imports this, every connection {@link connectTest} opened. */
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
})

/** A connection to the test broker with these `broker` options, closed after the test. */
export async function connectTest(broker: Record<string, unknown> = {}): Promise<Anymq> {
  const mq = await connect(url!, { adapter, broker, logger: silentLogger })
  open.push(mq)
  return mq
}

export function uniqueName(prefix: string): string {
  return `rmq-${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}
