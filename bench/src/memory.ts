import { formatCount } from '@anymq/cli'
import { runHarness } from './harness.js'
import { summarize } from './results.js'

/** JSON-encode and decode a 1 KB body to bytes and back, nothing else: the ceiling for any JSON queue here. */
function codecCeiling(): number {
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()
  const pad = 'x'.repeat(960)
  const count = 200_000
  let sum = 0
  const started = performance.now()
  for (let seq = 0; seq < count; seq++) {
    const bytes = encoder.encode(JSON.stringify({ run: 'abcdefgh', seq, sentAt: 1_763_839_870_123.456, pad }))
    sum += (JSON.parse(decoder.decode(bytes)) as { seq: number }).seq
  }
  const rate = (count * 1000) / (performance.now() - started)
  return sum > 0 ? rate : rate
}

/**
 * `pnpm bench:memory`: the memory adapter's send + consume + ack throughput with 1 KB JSON bodies at
 * concurrency 1 and 16, beside the plain in-process queue baseline, 3 runs per side (A B A B A B).
 */
async function memoryBench(): Promise<void> {
  const record = await runHarness({ mode: 'default', reps: 3, brokers: ['memory'], workloads: ['e2e-c1-1024', 'e2e-c16-1024', 'scaling-'] })
  const all = record.brokers[0]?.cells ?? []
  const cells = all.filter((cell) => cell.group !== 'scaling')
  const ceiling = codecCeiling()
  console.log('memory adapter: send + consume + ack, 1 KB JSON bodies, one send per message (64 in flight), 50 000 messages per run, median of 3')
  console.log(`baseline: a plain in-process queue loop doing the same JSON encode/decode (no anymq); JSON encode+decode alone: ${formatCount(ceiling)} msg/s\n`)
  for (const cell of cells) {
    const summary = summarize(cell)
    console.log(
      `${cell.label.padEnd(28)} anymq ${formatCount(summary.anymqRate).padStart(7)} msg/s (${summary.anymqCpuMicros.toFixed(2)} µs CPU/msg)   ` +
        `plain loop ${formatCount(summary.rawRate).padStart(7)} msg/s (${summary.rawCpuMicros.toFixed(2)} µs CPU/msg)   anymq/plain ${summary.ratio.toFixed(2)}` +
        `${cell.error ? `   error: ${cell.error}` : ''}`,
    )
  }
  const best = Math.max(...cells.map((cell) => summarize(cell).anymqRate))
  const mb = (bytes: number | undefined) => (bytes === undefined ? '–' : `${(bytes / 1_048_576).toFixed(0)} MB`)
  console.log('\nscaling (end-to-end, concurrency 16, 1 KB), memory after a forced GC:')
  for (const cell of all.filter((each) => each.group === 'scaling')) {
    const summary = summarize(cell)
    console.log(
      `  ${String(cell.messages).padStart(8)} messages  anymq ${formatCount(summary.anymqRate).padStart(7)} msg/s  plain ${formatCount(summary.rawRate).padStart(7)} msg/s   ` +
        `anymq RSS ${mb(summary.anymqRss)}, live heap+external ${mb(summary.anymqLive)}`,
    )
  }
  const scaled = (messages: number) => {
    const cell = all.find((each) => each.id === `scaling-${messages}`)
    return cell ? summarize(cell).anymqRss : undefined
  }
  const rss100k = scaled(100_000)
  const rss1m = scaled(1_000_000)
  if (rss100k !== undefined && rss1m !== undefined)
    console.log(`  RSS after 1M ÷ RSS after 100k: ${(rss1m / rss100k).toFixed(2)} (target ≤ 1.20: ${rss1m / rss100k <= 1.2 ? 'met' : 'not met'})`)
  console.log(
    `\ntarget ≥ 500 k msg/s on one core: ${best >= 500_000 ? 'met' : 'not met'} (best ${formatCount(best)} msg/s); load average ${record.loadBefore.map((value) => value.toFixed(2)).join(' ')} → ${record.loadAfter.map((value) => value.toFixed(2)).join(' ')}`,
  )
}

await memoryBench()
