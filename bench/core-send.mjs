#!/usr/bin/env node
// Core's own cost per send, without any broker: `MessageSender.one` (what `queue.send(body)` runs) against a
// runtime whose transport publish does nothing, 64 sends in flight, no options. CPU µs per send, median of
// the last 5 of 7 runs in one process. Build core first (tsc -p tsconfig.build.json in packages/core);
// CORE_DIST=<dir>/ compares another build.
//   node bench/core-send.mjs [raw|json] [bytes=100] [sends=1000000]
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const dist = process.env.CORE_DIST ?? join(dirname(fileURLToPath(import.meta.url)), '../packages/core/dist/')
const load = (file) => import(pathToFileURL(join(dist, file)).href)
const { MessageSender } = await load('message-sender.js')
const { noSendOptions } = await load('outgoing-message.js')
const { Runtime } = await load('runtime.js')
const { sendOptionChecks } = await load('queue.js')
const { resolveCodec } = await load('codec.js')

const codec = process.argv[2] ?? 'raw'
const bytes = Number(process.argv[3] ?? 100)
const sends = Number(process.argv[4] ?? 1_000_000)
const published = Promise.resolve()
const capabilities = { maxMessageBytes: 1 << 20, delay: false, priority: false, expiry: false, dedupe: false }
const runtime = new Runtime({ publish: () => published }, 'null', capabilities, console)
const outgoing = { adapter: 'null', capabilities, codec: resolveCodec(codec), schema: undefined, where: "queue 'q'", claimCheck: undefined }
const sender = new MessageSender(runtime, { kind: 'queue', queue: { name: 'q' } }, outgoing, sendOptionChecks, 'send')
const pad = 'x'.repeat(Math.max(0, bytes - 70))
const rawBody = new Uint8Array(bytes).fill(120)
const makeBody = codec === 'raw' ? () => rawBody : (seq) => ({ run: 'abcdefgh', seq, sentAt: 1, pad })
const cpuMs = () => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}
const runs = []
for (let run = 0; run < 7; run++) {
  const start = cpuMs()
  let next = 0
  const producer = async () => {
    while (next < sends) await sender.one(makeBody(next++), noSendOptions)
  }
  await Promise.all(Array.from({ length: 64 }, producer))
  runs.push(((cpuMs() - start) * 1000) / sends)
}
const warm = runs.slice(2).sort((a, b) => a - b)
console.log(`core send, ${codec} ${bytes} B: ${warm[2].toFixed(3)} µs CPU/send (runs ${runs.map((value) => value.toFixed(3)).join(' ')})`)
