// One measured round of a standalone bench script: messages per second of wall clock, main-thread CPU, the CPU of the
// other threads (V8's GC and compiler helpers), bytes allocated on the JS heap (what each collection found used, less what the last one left,
// from V8's GC profiler) and scavenges, each per message; optionally a sampling allocation profile (objects
// collected by minor and major GC included) written to `heapProfile` (open it in Chrome's DevTools).
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import v8 from 'node:v8'

/** Runs `work` (resolves with an untimed cleanup, or nothing) and measures it, per message of `total`. */
export async function measureRound(work, total, heapProfile) {
  globalThis.gc?.()
  const session = new Session()
  if (heapProfile !== undefined) {
    session.connect()
    await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
  }
  const profiler = new v8.GCProfiler()
  profiler.start()
  const usedAtStart = v8.getHeapStatistics().used_heap_size
  const wallStart = performance.now()
  const mainStart = process.threadCpuUsage()
  const processStart = process.cpuUsage()
  const cleanup = await work()
  const wallMs = performance.now() - wallStart
  const main = process.threadCpuUsage(mainStart)
  const all = process.cpuUsage(processStart)
  const usedAtEnd = v8.getHeapStatistics().used_heap_size
  const { statistics } = profiler.stop()
  await cleanup?.()
  if (heapProfile !== undefined) {
    const { profile } = await session.post('HeapProfiler.stopSampling')
    writeFileSync(heapProfile, JSON.stringify(profile))
    session.disconnect()
  }
  let allocated = 0
  let previous = usedAtStart
  let scavenges = 0
  for (const gc of statistics) {
    allocated += gc.beforeGC.heapStatistics.usedHeapSize - previous
    previous = gc.afterGC.heapStatistics.usedHeapSize
    if (gc.gcType === 'Scavenge') scavenges++
  }
  allocated += usedAtEnd - previous
  return {
    mainUs: (main.user + main.system) / total,
    otherUs: (all.user + all.system - main.user - main.system) / total,
    bytes: allocated / total,
    scavenges,
    perSecond: total / (wallMs / 1000),
  }
}

/** One line per round. */
export function describeRound(round, side, result) {
  return `round ${round} ${side.padEnd(5)} main ${result.mainUs.toFixed(2)} µs/msg, other threads ${result.otherUs.toFixed(2)} µs/msg, ${result.bytes.toFixed(0)} B/msg allocated, ${result.scavenges} scavenges, ${result.perSecond.toFixed(0)} msg/s`
}

/** The medians of the rounds after the first (which pays for compiling). */
export function describeMedians(what, results) {
  const warm = results.slice(1)
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
  return `${what}: median after the first round: main ${median(warm.map((r) => r.mainUs)).toFixed(2)} µs/msg, other threads ${median(warm.map((r) => r.otherUs)).toFixed(2)} µs/msg, ${median(warm.map((r) => r.bytes)).toFixed(0)} B/msg, ${median(warm.map((r) => r.scavenges))} scavenges, ${median(warm.map((r) => r.perSecond)).toFixed(0)} msg/s`
}
