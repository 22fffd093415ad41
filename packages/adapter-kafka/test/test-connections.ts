import { type Anymq, connect } from '@anymq/core'
import { afterEach } from 'vitest'
import { adapter } from '../src/index.js'

const open: Anymq[] = []

/** Closes, after each test of the file that imports this, every connection opened or handed over here. */
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
})

/** A connection to `url` (the test broker, a driver chosen with `?driver=`), closed after the test. */
export async function connectTest(url: string): Promise<Anymq> {
  const mq = await connect(url, { adapter })
  open.push(mq)
  return mq
}

/** Closes these connections after the test, as {@link connectTest}'s are. */
export function closeAfterTest(...connections: Anymq[]): void {
  open.push(...connections)
}
