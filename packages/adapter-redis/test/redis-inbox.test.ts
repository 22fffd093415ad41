import { brokerUrl, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { redisCli } from './broker.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

describe.skipIf(!url).each(drivers)('redis reply inbox, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', (driver) => {
  const open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((connection) => connection.close()))
  })

  it('answers every request and trims the replies it read: the inbox does not grow with the requests', async () => {
    const mq = await connect(withDriver(url as string, driver), { adapter })
    open.push(mq)
    const name = uniqueName('inbox-trim')
    let inbox: string | undefined
    await mq.responder<number, number>(name).serve((request, message) => {
      inbox = message.replyTo
      return request * 2
    }).ready
    const requester = mq.requester<number, number>(name)
    const answers: number[] = []
    for (let index = 0; index < 300; index++) answers.push(await requester.request(index, { timeoutMs: 10_000 }))
    expect(answers).toEqual(Array.from({ length: 300 }, (_, index) => index * 2))
    expect(inbox).toBeDefined()
    // The first 256 read replies were trimmed at once; those read since wait for the next batch (or 5 s).
    const [length] = await redisCli(url as string, 'XLEN', `anymq:i:${inbox}`)
    expect(Number(length)).toBeLessThan(256)
  })
})
