import { randomUUID } from 'node:crypto'
import { type Anymq, Unrecoverable } from '@anymq/core'

/** A queue name of its own for one case, so cases never see each other's messages. */
export function uniqueQueue(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

/** Dead-letters `bodies` on queue `name` (headers `tenant: acme`), and resolves with their ids, in order. */
export async function deadLetter(mq: Anymq, name: string, bodies: unknown[]): Promise<string[]> {
  const queue = mq.queue(name, { retry: false })
  const { ids } = await queue.sendBatch(bodies, { headers: { tenant: 'acme' } })
  const failing = queue.consume(() => {
    throw new Unrecoverable('refused by the dashboard test')
  })
  await until(async () => (await queue.deadLetters().peek(100)).length >= bodies.length, `${bodies.length} dead letters in ${name}`)
  await failing.close()
  return ids
}

/** Resolves once `check` holds; rejects after `timeoutMs` naming what it waited for. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
