import { formatMilliseconds, percentileOfSorted } from './statistics.js'

/**
 * Collects latencies in milliseconds and answers percentiles exactly (every sample is kept in a
 * growable Float64Array: 8 bytes each, 8 MB for a million). Renders a log-scale histogram for terminals.
 */
export class LatencyRecorder {
  private samples = new Float64Array(1024)
  private size = 0
  private sorted: Float64Array | undefined

  get count(): number {
    return this.size
  }

  record(milliseconds: number): void {
    if (this.size === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2)
      grown.set(this.samples)
      this.samples = grown
    }
    this.samples[this.size++] = milliseconds
    this.sorted = undefined
  }

  /** The `p`-th percentile (0–100), nearest-rank; NaN with no samples. */
  percentile(p: number): number {
    return percentileOfSorted(this.sortedSamples(), p)
  }

  get min(): number {
    return this.size === 0 ? Number.NaN : (this.sortedSamples()[0] as number)
  }

  get max(): number {
    return this.size === 0 ? Number.NaN : (this.sortedSamples()[this.size - 1] as number)
  }

  get mean(): number {
    if (this.size === 0) return Number.NaN
    let sum = 0
    for (let index = 0; index < this.size; index++) sum += this.samples[index] as number
    return sum / this.size
  }

  /** p50/p95/p99/max and the mean, for JSON output. */
  summary(): { count: number; p50: number; p95: number; p99: number; max: number; mean: number } {
    return { count: this.size, p50: this.percentile(50), p95: this.percentile(95), p99: this.percentile(99), max: this.max, mean: this.mean }
  }

  /**
   * Counts per power-of-two bucket (`≤ 0.125 ms`, `≤ 0.25 ms`, … `≤ 1024 ms`, `> …`), trimmed to the
   * range that holds samples.
   */
  buckets(): { upTo: number; count: number }[] {
    const bounds: number[] = []
    for (let bound = 1 / 16; bound <= 65_536; bound *= 2) bounds.push(bound)
    const counts = new Array<number>(bounds.length + 1).fill(0)
    for (let index = 0; index < this.size; index++) {
      const value = this.samples[index] as number
      let bucket = 0
      while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket++
      counts[bucket] = (counts[bucket] as number) + 1
    }
    const result = counts.map((count, index) => ({ upTo: bounds[index] ?? Number.POSITIVE_INFINITY, count }))
    let first = result.findIndex((bucket) => bucket.count > 0)
    let last = result.length - 1 - [...result].reverse().findIndex((bucket) => bucket.count > 0)
    if (first < 0) return []
    first = Math.max(0, first)
    last = Math.min(result.length - 1, last)
    return result.slice(first, last + 1)
  }

  /** A text histogram: one line per bucket with a bar scaled to `width` characters. */
  renderHistogram(width = 40): string {
    const buckets = this.buckets()
    const largest = Math.max(1, ...buckets.map((bucket) => bucket.count))
    const lines: string[] = []
    const first = buckets[0]?.upTo ?? 0
    let previous = Number.isFinite(first) && first > 1 / 16 ? first / 2 : 0
    for (const bucket of buckets) {
      const label = Number.isFinite(bucket.upTo)
        ? `${formatMilliseconds(previous)}–${formatMilliseconds(bucket.upTo)} ms`
        : `> ${formatMilliseconds(previous)} ms`
      const bar = '█'.repeat(Math.round((bucket.count / largest) * width)) || (bucket.count > 0 ? '▏' : '')
      const share = ((bucket.count / this.size) * 100).toFixed(1)
      lines.push(`${label.padStart(20)} │${bar.padEnd(width)} ${String(bucket.count).padStart(8)}  ${share.padStart(5)}%`)
      previous = bucket.upTo
    }
    return lines.join('\n')
  }

  private sortedSamples(): Float64Array {
    this.sorted ??= this.samples.slice(0, this.size).sort()
    return this.sorted
  }
}
