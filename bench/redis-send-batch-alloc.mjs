#!/usr/bin/env node
// sendBatch against a real Redis, anymq (the compiled adapter on node-redis, `queue.sendBatch`, JSON codec) and raw
// node-redis (the bench's raw client: a pipeline of XADDs with the body as its one field), alternated round by round
// in one process as redis-send-rounds.mjs says (CPU and heap bytes per message). Build first.
//   ANYMQ_REDIS_URL=redis://… node --expose-gc bench/redis-send-batch-alloc.mjs [bytes=100] [batches=200] [rounds=6] [sides=anymq,raw]
import { openRedisSides, runSendRounds } from './redis-send-rounds.mjs'

const bytes = Number(process.argv[2] ?? 100)
const batches = Number(process.argv[3] ?? 200)
const rounds = Number(process.argv[4] ?? 6)
const sides = (process.argv[5] ?? 'anymq,raw').split(',')
const batchSize = 100
const total = batches * batchSize
const pad = 'x'.repeat(Math.max(0, bytes - 60))
const prefix = `batch-${process.pid}`

const { mq, raw } = await openRedisSides()

async function sendAnymq(stream) {
  const queue = mq.queue(stream)
  for (let batch = 0; batch < batches; batch++) {
    const bodies = []
    for (let seq = 0; seq < batchSize; seq++) bodies.push({ run: 'abcdefgh', seq: batch * batchSize + seq, sentAt: Date.now(), pad })
    await queue.sendBatch(bodies)
  }
}

async function sendRaw(stream) {
  for (let batch = 0; batch < batches; batch++) {
    const pipeline = raw.multi()
    for (let seq = 0; seq < batchSize; seq++) {
      pipeline.xAdd(stream, '*', { body: JSON.stringify({ run: 'abcdefgh', seq: batch * batchSize + seq, sentAt: Date.now(), pad }) })
    }
    await pipeline.execAsPipeline()
  }
}

await runSendRounds({
  mq,
  raw,
  prefix,
  sides,
  rounds,
  total,
  send: { anymq: sendAnymq, raw: sendRaw },
  label: `sendBatch ${batchSize} × ${bytes} B, ${batches} batches`,
})
