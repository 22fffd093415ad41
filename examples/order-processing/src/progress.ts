/** One-line progress bar on a terminal; a line every 10% when output is not a terminal (CI logs). */
export class ProgressBar {
  private lastDecile = -1
  private readonly tty = process.stdout.isTTY === true

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number, detail = ''): void {
    const ratio = Math.min(1, done / this.total)
    if (this.tty) {
      const width = 30
      const filled = Math.round(ratio * width)
      process.stdout.write(
        `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${done}/${this.total} ${detail}   `,
      )
      return
    }
    const decile = Math.floor(ratio * 10)
    if (decile !== this.lastDecile) {
      this.lastDecile = decile
      console.log(`${this.label} ${decile * 10}% (${done}/${this.total}) ${detail}`)
    }
  }

  done(): void {
    if (this.tty) process.stdout.write('\n')
  }
}
