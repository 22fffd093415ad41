#!/usr/bin/env node
// What tracing and metrics cost per message: CPU µs per message of send + consume + ack over memory://
// (1 KB JSON bodies, 64 sends in flight, concurrency 16), each run in a fresh process, modes interleaved.
//   node bench/telemetry.mjs [--base <folder of a checkout whose packages/core and adapter-memory are built>]
//   modes: base = that older checkout (no telemetry code at all); off = this checkout, no OpenTelemetry SDK
//   registered; sdk = this checkout with a tracer provider (BatchSpanProcessor, exporter that drops spans)
//   and a meter provider registered before connect().
// Build first: `pnpm build` (or tsc -p tsconfig.build.json in packages/core and packages/adapter-memory).
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const messages = 30_000
const warmup = 5_000

async function measure(mode, checkout) {
  const core = await import(pathToFileURL(join(checkout, 'packages/core/dist/index.js')).href)
  const { adapter } = await import(pathToFileURL(join(checkout, 'packages/adapter-memory/dist/index.js')).href)
  if (mode === 'sdk') {
    // The SDK packages are core's devDependencies.
    const require = createRequire(join(root, 'packages/core/package.json'))
    const load = (name) => import(pathToFileURL(require.resolve(name)).href)
    const api = await load('@opentelemetry/api')
    const { BasicTracerProvider, BatchSpanProcessor } = await load('@opentelemetry/sdk-trace-base')
    const { MeterProvider, MetricReader } = await load('@opentelemetry/sdk-metrics')
    const { W3CTraceContextPropagator } = await load('@opentelemetry/core')
    const { AsyncLocalStorageContextManager } = await load('@opentelemetry/context-async-hooks')
    const dropping = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
    class Reader extends MetricReader {
      async onForceFlush() {}
      async onShutdown() {}
    }
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    api.propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    api.trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropping)] }))
    api.metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new Reader()] }))
  }
  const mq = await core.connect('memory://telemetry-bench', { adapter })
  const queue = mq.queue('bench')
  const pad = 'x'.repeat(960)
  let received = 0
  let wake
  await queue.consume(
    () => {
      received++
      if (received === wake?.at) wake.resolve()
    },
    { concurrency: 16 },
  ).ready
  const run = async (count) => {
    const target = received + count
    const done = new Promise((resolve) => {
      wake = { at: target, resolve }
    })
    let sent = 0
    const sender = async () => {
      while (sent < count) {
        sent++
        await queue.send({ run: 'abcdefgh', seq: sent, sentAt: Date.now(), pad })
      }
    }
    await Promise.all(Array.from({ length: 64 }, sender))
    await done
  }
  await run(warmup)
  const before = process.cpuUsage()
  const started = performance.now()
  await run(messages)
  const cpu = process.cpuUsage(before)
  const wall = performance.now() - started
  await mq.close()
  return { cpuMicros: (cpu.user + cpu.system) / messages, rate: (messages * 1000) / wall }
}

if (process.argv[2] === '--child') {
  const result = await measure(process.argv[3], process.argv[4])
  process.stdout.write(JSON.stringify(result))
} else {
  const baseIndex = process.argv.indexOf('--base')
  const base = baseIndex > 0 ? process.argv[baseIndex + 1] : undefined
  const repsIndex = process.argv.indexOf('--reps')
  const reps = repsIndex > 0 ? Number(process.argv[repsIndex + 1]) : 7
  const modes = [...(base ? [['base', base]] : []), ['off', root], ['sdk', root]]
  const results = Object.fromEntries(modes.map(([mode]) => [mode, []]))
  for (let rep = 0; rep < reps; rep++) {
    for (const [mode, checkout] of modes) {
      const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, checkout], { encoding: 'utf8' })
      results[mode].push(JSON.parse(output))
    }
  }
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
  console.log(
    `memory://, send + consume + ack, 1 KB JSON, ${messages} messages per run after ${warmup} warm-up, median of ${reps} runs per mode (interleaved, one process each)`,
  )
  const summary = {}
  for (const [mode] of modes) {
    const cpu = median(results[mode].map((result) => result.cpuMicros))
    const rate = median(results[mode].map((result) => result.rate))
    summary[mode] = cpu
    console.log(
      `${mode.padEnd(5)} ${cpu.toFixed(2).padStart(7)} µs CPU/msg  ${Math.round(rate).toString().padStart(7)} msg/s   runs: ${results[mode].map((result) => result.cpuMicros.toFixed(2)).join(' ')}`,
    )
  }
  if (summary.base) console.log(`off vs base: ${(((summary.off - summary.base) / summary.base) * 100).toFixed(1)}% CPU/msg`)
  console.log(`sdk vs off: ${(((summary.sdk - summary.off) / summary.off) * 100).toFixed(1)}% CPU/msg`)
}
