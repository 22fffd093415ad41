import { formatCount } from '@anymq/cli'
import type { BrokerReport } from './report.js'
import { summarize } from './results.js'

const escapeXml = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')

/**
 * A self-contained SVG: per broker, the 1 KB throughput workloads as pairs of horizontal bars (anymq,
 * raw) on a log scale, with the anymq/raw ratio at the right, green at ≥ 0.95 and amber below.
 */
export function throughputChart(reports: BrokerReport[], subtitle: string): string {
  const labelWidth = 300
  const barWidth = 440
  const ratioWidth = 70
  const rowHeight = 22
  const width = labelWidth + barWidth + ratioWidth + 20
  const minimum = 10
  const maximum = 10_000_000
  const scale = (rate: number) => (Math.log10(Math.max(minimum, Math.min(maximum, rate))) - Math.log10(minimum)) / (Math.log10(maximum) - Math.log10(minimum))
  const body: string[] = []
  let y = 84
  for (const report of reports) {
    const cells = report.cells.filter((cell) => cell.measures === 'throughput' && cell.bytes === 1024 && cell.group !== 'scaling' && !cell.notRun)
    body.push(
      `<text x="10" y="${y + 14}" class="broker">${escapeXml(report.broker)}${cells.length === 0 ? ` — not run: ${escapeXml(report.notRun ?? 'no results')}` : ''}</text>`,
    )
    y += rowHeight
    for (const cell of cells) {
      const summary = summarize(cell)
      body.push(`<text x="20" y="${y + 14}" class="label">${escapeXml(cell.label)}</text>`)
      const anymqLength = scale(summary.anymqRate) * barWidth
      const rawLength = scale(summary.rawRate) * barWidth
      body.push(
        `<rect x="${labelWidth}" y="${y + 2}" width="${anymqLength.toFixed(1)}" height="8" class="anymq"><title>anymq ${formatCount(summary.anymqRate)} msg/s</title></rect>`,
      )
      body.push(
        `<rect x="${labelWidth}" y="${y + 11}" width="${rawLength.toFixed(1)}" height="8" class="raw"><title>raw ${formatCount(summary.rawRate)} msg/s</title></rect>`,
      )
      body.push(`<text x="${labelWidth + anymqLength + 4}" y="${y + 9}" class="value">${formatCount(summary.anymqRate)}</text>`)
      body.push(`<text x="${labelWidth + rawLength + 4}" y="${y + 19}" class="value">${formatCount(summary.rawRate)}</text>`)
      const ratio = summary.ratio
      const ratioClass = !Number.isFinite(ratio) ? 'value' : ratio >= 0.95 ? 'good' : 'short'
      body.push(
        `<text x="${labelWidth + barWidth + ratioWidth}" y="${y + 15}" text-anchor="end" class="${ratioClass}">${Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–'}</text>`,
      )
      y += rowHeight
    }
    y += 6
  }
  const axis: string[] = []
  for (let power = 1; power <= 7; power++) {
    const x = labelWidth + scale(10 ** power) * barWidth
    axis.push(`<line x1="${x.toFixed(1)}" y1="74" x2="${x.toFixed(1)}" y2="${y}" class="grid"/>`)
    axis.push(`<text x="${x.toFixed(1)}" y="70" text-anchor="middle" class="axis">${formatCount(10 ** power)}</text>`)
  }
  const height = y + 30
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">
<style>
  .title { font-size: 16px; font-weight: 600; fill: #111; }
  .subtitle { font-size: 11px; fill: #555; }
  .broker { font-size: 13px; font-weight: 600; fill: #111; }
  .label { font-size: 11px; fill: #333; }
  .value { font-size: 9px; fill: #555; }
  .axis { font-size: 9px; fill: #777; }
  .grid { stroke: #e4e4e4; stroke-width: 1; }
  .anymq { fill: #3b6fd8; }
  .raw { fill: #a0a0a0; }
  .good { font-size: 12px; font-weight: 600; fill: #1a7f37; }
  .short { font-size: 12px; font-weight: 600; fill: #b35900; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" class="title">anymq vs raw client — throughput, 1 KB JSON bodies (msg/s, log scale)</text>
<text x="10" y="38" class="subtitle">${escapeXml(subtitle)}</text>
<rect x="10" y="48" width="10" height="8" class="anymq"/><text x="24" y="56" class="label">anymq</text>
<rect x="70" y="48" width="10" height="8" class="raw"/><text x="84" y="56" class="label">raw client (same guarantees)</text>
<text x="${labelWidth + barWidth + ratioWidth}" y="56" text-anchor="end" class="label">anymq/raw</text>
${axis.join('\n')}
${body.join('\n')}
</svg>
`
}
