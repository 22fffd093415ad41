/** Where a progress bar draws: a TTY stream (the bar stays silent on anything else). */
export interface ProgressStream {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

/**
 * A one-line progress bar redrawn in place (`\r`) at most every `intervalMs`. It draws only on a
 * TTY, so logs and pipes stay clean; `clear()` removes it before other output is printed.
 */
export class ProgressBar {
  private lastDraw = 0
  private drawn = false
  private readonly enabled: boolean

  constructor(
    private readonly stream: ProgressStream = process.stderr,
    private readonly options: { intervalMs?: number; force?: boolean; plainLines?: boolean } = {},
  ) {
    this.enabled = options.force ?? stream.isTTY === true
  }

  /**
   * Redraws the bar for `done` of `total` with a label, throttled (`force` draws at once). Off a TTY,
   * with `plainLines`, each forced update prints one plain line instead, so logs still show progress.
   */
  update(done: number, total: number, label = '', force = false): void {
    if (!this.enabled) {
      if (force && this.options.plainLines) this.stream.write(`[${Math.floor(done)}/${total}] ${label}\n`)
      return
    }
    const now = Date.now()
    if (!force && now - this.lastDraw < (this.options.intervalMs ?? 100)) return
    this.lastDraw = now
    const columns = this.stream.columns ?? 100
    const fraction = total > 0 ? Math.min(1, done / total) : 0
    const counter = `${done}/${total}`
    const width = Math.max(10, Math.min(40, columns - counter.length - label.length - 12))
    const filled = Math.round(fraction * width)
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`
    let line = `${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${counter} ${label}`
    if (line.length > columns - 1) line = line.slice(0, columns - 1)
    this.stream.write(`\r${line}\x1b[K`)
    this.drawn = true
  }

  /** Erases the bar so the next output starts on a clean line. */
  clear(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[K')
    this.drawn = false
    this.lastDraw = 0
  }
}
