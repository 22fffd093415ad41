/** Median of a list of numbers (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** The `p`-th percentile (0–100) of values already sorted ascending, nearest-rank; NaN when empty. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number
}

/** `12 345`, `1.23 M`-style rendering of a rate or a count for tables. */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return '–'
  if (value >= 10_000_000) return `${(value / 1_000_000).toFixed(1)} M`
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(2)} M`
  if (value >= 100_000) return `${(value / 1000).toFixed(0)} k`
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} k`
  if (value >= 100) return value.toFixed(0)
  return value.toFixed(1)
}

/** Milliseconds with a precision that suits their size: `0.042`, `1.35`, `27.1`, `1204`. */
export function formatMilliseconds(value: number): string {
  if (!Number.isFinite(value)) return '–'
  if (value < 0.1) return value.toFixed(3)
  if (value < 10) return value.toFixed(2)
  if (value < 100) return value.toFixed(1)
  return value.toFixed(0)
}

/** `100 B`, `1 KB`, `64 KB`, `1 MB` (binary multiples, short units as in the issue). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1_048_576 && bytes % 1_048_576 === 0) return `${bytes / 1_048_576} MB`
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`
  if (bytes >= 1_048_576) return `${(bytes / 1_048_576).toFixed(1)} MB`
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${bytes} B`
}

/** Parses `100`, `100B`, `1KB`, `1k`, `64KiB`, `1MB` into bytes; `undefined` when it is not a size. */
export function parseBytes(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?\s*$/i.exec(text)
  if (!match) return undefined
  const unit = (match[2] ?? 'b').toLowerCase()
  const factor = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1_048_576 : 1
  return Math.round(Number(match[1]) * factor)
}

/** Parses `2000`, `10k`, `1M`, `1_000_000` into a count; `undefined` when it is not one. */
export function parseCount(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(k|m)?\s*$/i.exec(text.replaceAll('_', ''))
  if (!match) return undefined
  const unit = (match[2] ?? '').toLowerCase()
  const value = Number(match[1]) * (unit === 'k' ? 1000 : unit === 'm' ? 1_000_000 : 1)
  return Number.isSafeInteger(value) ? value : undefined
}
