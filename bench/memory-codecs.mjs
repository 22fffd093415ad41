#!/usr/bin/env node
// The memory adapter's own cost per message by codec: CPU µs per message and msg/s of anymq over memory://
// for publishing (64 sends in flight, nothing consumed) and end to end (consumer at concurrency 16 attached
// first, 64 sends in flight, the producer never more than 10 000 ahead, as `pnpm bench`'s e2e cell),
// and consuming a pre-filled queue (filled untimed with sendBatch of 100; timed from attaching a consumer at
// concurrency 16 to its last ack, as `pnpm bench`'s consume-c16 cell), with the raw codec (Uint8Array
// bodies) and the JSON codec (the bench's body), 100 B and 1 KB.
// Each cell runs in a fresh process: one warm-up run, then `--reps` runs (default 3), median reported.
//   node --expose-gc bench/memory-codecs.mjs [--messages 200000] [--reps 3] [--cells publish-raw-100,e2e-json-1024]
// Build first (`pnpm bench` does, or tsc -p tsconfig.build.json in packages/core and packages/adapter-memory).
import { execFileSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const argument = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`)
  return index === -1 ? fallback : process.argv[index + 1]
}
const allCells = [
  'publish-raw-100',
  'publish-raw-1024',
  'e2e-raw-100',
  'e2e-raw-1024',
  'publish-json-100',
  'publish-json-1024',
  'e2e-json-100',
  'e2e-json-1024',
  'consume-raw-100',
  'consume-raw-1024',
  'consume-json-100',
  'consume-json-1024',
]

async function measure(cell, messages, reps) {
  const [workload, codec, bytesText] = cell.split('-')
  const bytes = Number(bytesText)
  const core = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)
  const { adapter } = await import(pathToFileURL(join(root, 'packages/adapter-memory/dist/index.js')).href)
  const mq = await core.connect(`memory://codecs-${process.pid}`, { adapter })
  const pad = 'x'.repeat(Math.max(0, bytes - 70))
  const rawBody = new Uint8Array(bytes).fill(120)
  const makeBody = codec === 'raw' ? () => rawBody : (seq) => ({ run: 'abcdefgh', seq, sentAt: performance.timeOrigin + performance.now(), pad })
  const cpu = () => {
    const usage = process.cpuUsage()
    return (usage.user + usage.system) / 1000
  }
  let queues = 0
  const once = async () => {
    const queue = mq.queue(`codecs-${queues++}`, { codec })
    let received = 0
    let sent = 0
    let waiting = []
    let finish
    const finished = new Promise((resolve) => {
      finish = resolve
    })
    const handler = () => {
      if (++received === messages) finish()
      if (waiting.length > 0 && sent - received < 5_000) {
        const woken = waiting
        waiting = []
        for (const wake of woken) wake()
      }
    }
    if (workload === 'consume') {
      for (let first = 0; first < messages; first += 100) {
        await queue.sendBatch(Array.from({ length: Math.min(100, messages - first) }, (_, index) => makeBody(first + index)))
      }
      sent = messages
    }
    let subscription = workload === 'e2e' ? queue.consume(handler, { concurrency: 16 }) : undefined
    await subscription?.ready
    const wallStart = performance.now()
    const cpuStart = cpu()
    if (workload === 'consume') subscription = queue.consume(handler, { concurrency: 16 })
    let next = 0
    const producer = async () => {
      while (workload !== 'consume' && next < messages) {
        const seq = next++
        while (workload === 'e2e' && sent - received >= 10_000) await new Promise((resolve) => waiting.push(resolve))
        await queue.send(makeBody(seq))
        sent++
      }
    }
    await Promise.all(Array.from({ length: 64 }, producer))
    if (workload !== 'publish') await finished
    const result = { rate: (messages * 1000) / (performance.now() - wallStart), cpuMicros: ((cpu() - cpuStart) * 1000) / messages }
    await subscription?.close()
    await queue.purge()
    return result
  }
  await once()
  const runs = []
  for (let rep = 0; rep < reps; rep++) {
    globalThis.gc?.()
    runs.push(await once())
  }
  await mq.close()
  runs.sort((a, b) => a.cpuMicros - b.cpuMicros)
  return { cell, median: runs[Math.floor(runs.length / 2)], runs }
}

if (process.argv[2] === '--child') {
  const result = await measure(process.argv[3], Number(process.argv[4]), Number(process.argv[5]))
  process.stdout.write(JSON.stringify(result))
} else {
  const messages = Number(argument('messages', '200000'))
  const reps = Number(argument('reps', '3'))
  const cells = argument('cells', allCells.join(',')).split(',')
  const loadBefore = loadavg()
  console.log(`memory:// by codec: ${messages} messages per run, median of ${reps} runs, a fresh process per cell, Node ${process.version}`)
  console.log('cell               CPU µs/msg   msg/s   (runs, µs CPU/msg)')
  for (const cell of cells) {
    const output = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', cell, String(messages), String(reps)], {
      encoding: 'utf8',
    })
    const { median, runs } = JSON.parse(output)
    console.log(
      `${cell.padEnd(18)} ${median.cpuMicros.toFixed(2).padStart(10)} ${Math.round(median.rate).toString().padStart(8)}   (${runs.map((run) => run.cpuMicros.toFixed(2)).join(' ')})`,
    )
  }
  console.log(
    `load average ${loadBefore.map((value) => value.toFixed(2)).join(' ')} -> ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  )
}
