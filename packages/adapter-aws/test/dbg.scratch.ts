import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'

const url = `${process.env.ANYMQ_SQS_URL}&queueType=fifo`
const mq = await connect(url, { adapter })
const name = `dbg-${Date.now()}`
const q = mq.queue<string>(name)
const sub = q.consume(
  async (m) => {
    console.log('first consumer got', m.body, m.attempt)
    await m.ack()
  },
  { ack: 'manual', onError: (e) => console.log('err1', e.message) },
)
await sub.ready
await q.send('once')
await new Promise((r) => setTimeout(r, 1500))
await sub.close()
console.log('closed', Date.now())
await q.send('marker')
console.log('sent marker')
const t = Date.now()
const sub2 = q.consume(
  (m) => {
    console.log('second got', m.body, m.attempt, Date.now() - t)
  },
  { onError: (e) => console.log('err2', e.message) },
)
await sub2.ready
await new Promise((r) => setTimeout(r, 25000))
await mq.close()
