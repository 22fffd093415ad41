import type { Logger } from '@anymq/core/spi'
import { connectionError } from './redis-errors.js'
import type { RedisScripts } from './redis-scripts.js'

/** Due messages moved per script call; the movers call again at once while they move full batches. */
const moveBatch = 200

interface DelaySet {
  stream: string
  /** Due messages go into a priority queue's waiting set. */
  priority: boolean
  references: number
}

/**
 * Moves due delayed messages and retries of every delay set a connection's consumers use into their
 * streams: one script call per poll for all of them. A poll per set cost a hundred idle subscriptions
 * 500 commands a second. Sets added after a poll was scheduled are moved at once; a poll that moved a
 * full batch is followed by the next at once, starting at another set so that none waits behind the rest.
 */
export class DelayMovers {
  private readonly sets = new Map<string, DelaySet>()
  private timer: NodeJS.Timeout | undefined
  private running = false
  /** A poll was asked for while one ran: run again as soon as it ends. */
  private again = false
  private start = 0
  private closed = false

  constructor(
    private readonly scripts: RedisScripts,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  /** Keeps `delayed` moved into `stream` until the returned function is called (its last consumer closed). */
  retain(delayed: string, stream: string, priority: boolean): () => void {
    let set = this.sets.get(delayed)
    if (!set) {
      set = { stream, priority, references: 0 }
      this.sets.set(delayed, set)
      this.schedule(0)
    }
    set.references++
    const held = set
    let released = false
    return () => {
      if (released) return
      released = true
      held.references--
      if (held.references === 0 && this.sets.get(delayed) === held) this.sets.delete(delayed)
      if (this.sets.size === 0) this.stop()
    }
  }

  close(): void {
    this.closed = true
    this.sets.clear()
    this.stop()
  }

  private stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(inMs: number): void {
    if (this.closed || this.sets.size === 0) return
    if (this.running) {
      if (inMs === 0) this.again = true
      return
    }
    clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.poll(), inMs)
  }

  private async poll(): Promise<void> {
    this.timer = undefined
    this.running = true
    this.again = false
    let moved = 0
    try {
      const all = [...this.sets]
      this.start = all.length === 0 ? 0 : this.start % all.length
      const ordered = [...all.slice(this.start), ...all.slice(0, this.start)].map(([delayed, set]) => ({ delayed, stream: set.stream, priority: set.priority }))
      this.start++
      moved = ordered.length === 0 ? 0 : await this.scripts.moveDueMany(ordered, moveBatch)
    } catch (error) {
      this.logger.debug(connectionError('moving due delayed messages', error).message)
    } finally {
      this.running = false
    }
    this.schedule(moved >= moveBatch || this.again ? 0 : this.pollMs)
  }
}
