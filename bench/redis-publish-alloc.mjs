#!/usr/bin/env node
// One send per message, 64 in flight, against a real Redis: anymq (the compiled adapter on node-redis, `queue.send`,
// JSON codec) and raw node-redis (the bench's raw client: an XADD with the body as its one field), alternated round by
// round in one process as redis-send-rounds.mjs says (CPU and heap bytes per message). Build first.
//   ANYMQ_REDIS_URL=redis://… node --expose-gc bench/redis-publish-alloc.mjs [bytes=1000] [messages=20000] [rounds=6] [sides=anymq,raw]
import { openRedisSides, runSendRounds } from './redis-send-rounds.mjs'

const bytes = Number(process.argv[2] ?? 1000)
const total = Number(process.argv[3] ?? 20000)
const rounds = Number(process.argv[4] ?? 6)
const sides = (process.argv[5] ?? 'anymq,raw').split(',')
const window = 64
const pad = 'x'.repeat(Math.max(0, bytes - 60))
const prefix = `publish-${process.pid}`

const { mq, raw } = await openRedisSides()

/** Keeps `window` sends in flight until `total` were sent and all resolved. */
async function pipelined(sendOne) {
  let next = 0
  const lane = async () => {
    while (next < total) {
      const seq = next++
      await sendOne({ run: 'abcdefgh', seq, sentAt: Date.now(), pad })
    }
  }
  await Promise.all(Array.from({ length: window }, lane))
}

const sendAnymq = (stream) => {
  const queue = mq.queue(stream)
  return pipelined((body) => queue.send(body))
}
const sendRaw = (stream) => pipelined((body) => raw.xAdd(stream, '*', { body: JSON.stringify(body) }))

await runSendRounds({
  mq,
  raw,
  prefix,
  sides,
  rounds,
  total,
  send: { anymq: sendAnymq, raw: sendRaw },
  label: `send, ${window} in flight, ${bytes} B, ${total} messages`,
})
