export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN
}

/** Prints rows as an aligned two-column table. */
export function printTable(title: string, rows: ReadonlyArray<readonly [string, string | number]>): void {
  const width = Math.max(...rows.map(([name]) => name.length))
  const valueWidth = Math.max(...rows.map(([, value]) => String(value).length))
  const line = `+${'-'.repeat(width + 2)}+${'-'.repeat(valueWidth + 2)}+`
  console.log(`\n${title}\n${line}`)
  for (const [name, value] of rows) console.log(`| ${name.padEnd(width)} | ${String(value).padStart(valueWidth)} |`)
  console.log(line)
}
