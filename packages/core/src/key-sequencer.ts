/**
 * Runs items with at most `concurrency` at once, and items of the same key strictly one after the
 * other in submission order (the sequential convoy), while different keys run in parallel.
 * A busy key holds no slot: its waiting items sit aside until the running one finishes.
 * `keyOf`, `run` and `abandon` are given once, and an item is queued as it is, so submitting one
 * creates no closure and no record of its own. An item whose `run` finished synchronously (returned
 * `undefined`) frees its slot at once, in the same turn.
 */
export class KeySequencer<T> {
  private active = 0
  private readonly ready: T[] = []
  /** Keys with an item ready or running, and the items of that key waiting behind it (oldest first). */
  private readonly waitingByKey = new Map<string, T[]>()
  private idleWaiters: Array<() => void> = []
  /** Inside {@link pump}'s loop: an item that finishes synchronously, or one submitted from a handler, is picked up by that loop, not by a nested one. */
  private pumping = false
  /** Set by {@link hold}: nothing more starts. */
  private held = false

  constructor(
    private readonly concurrency: number,
    /** The ordering key of an item (`undefined`: none); read when it is submitted and when it finishes, so it must not change in between. */
    private readonly keyOf: (item: T) => string | undefined,
    /** Runs one item; `undefined` when it is done already, else a promise whose settling (either way) frees its slot and its key. */
    private readonly run: (item: T) => Promise<void> | undefined,
    /** Called for each item dropped by {@link abandonQueued}, never started. */
    private readonly abandon: (item: T) => void,
  ) {}

  get running(): number {
    return this.active
  }

  get queued(): number {
    let count = this.ready.length
    for (const items of this.waitingByKey.values()) count += items.length
    return count
  }

  submit(item: T): void {
    const key = this.keyOf(item)
    if (key !== undefined) {
      const waiting = this.waitingByKey.get(key)
      if (waiting) {
        waiting.push(item)
        return
      }
      this.waitingByKey.set(key, [])
    }
    if (!this.pumping && !this.held && this.active < this.concurrency && this.ready.length === 0) {
      // A free slot and nothing ahead of it: started here, without a trip through the ready queue.
      this.pumping = true
      this.active++
      try {
        this.start(item)
      } finally {
        this.pumping = false
      }
      // What the run submitted (a handler sending to its own queue) or freed is picked up now.
      if (this.ready.length > 0) this.pump()
      return
    }
    this.ready.push(item)
    this.pump()
  }

  /** Starts nothing more: running items finish, the rest stay queued until {@link abandonQueued}. */
  hold(): void {
    this.held = true
  }

  /** Removes every item not yet started and calls `abandon` for it. */
  abandonQueued(): void {
    const ready = this.ready.splice(0)
    const dropped = [...ready]
    for (const items of this.waitingByKey.values()) dropped.push(...items.splice(0))
    // A key whose item was still ready has none running: it is forgotten. A running key keeps its (emptied) entry until it finishes.
    for (const item of ready) {
      const key = this.keyOf(item)
      if (key !== undefined) this.waitingByKey.delete(key)
    }
    for (const item of dropped) this.abandon(item)
    this.checkIdle()
  }

  /** Resolves when nothing runs and nothing is queued. */
  whenIdle(): Promise<void> {
    if (this.active === 0 && this.queued === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private pump(): void {
    if (this.pumping || this.held) return
    this.pumping = true
    try {
      while (this.active < this.concurrency && this.ready.length > 0) {
        this.active++
        this.start(this.ready.shift() as T)
      }
    } finally {
      this.pumping = false
    }
  }

  private start(item: T): void {
    let running: Promise<void> | undefined
    try {
      running = this.run(item)
    } catch {
      // The runner reports its own failures; a throw only frees the slot, as a success does.
      running = undefined
    }
    if (running === undefined) this.finish(item)
    else void this.finishAfter(item, running)
  }

  /** One promise per item for both outcomes: no closure for a `then`, no extra promise for a catch and a finally. */
  private async finishAfter(item: T, running: Promise<void>): Promise<void> {
    try {
      await running
    } catch {
      // As in start(): a rejection only frees the slot.
    }
    this.finish(item)
  }

  private finish(item: T): void {
    this.active--
    const key = this.keyOf(item)
    if (key !== undefined) {
      const waiting = this.waitingByKey.get(key)
      const next = waiting?.shift()
      if (next !== undefined) this.ready.push(next)
      else this.waitingByKey.delete(key)
    }
    this.pump()
    this.checkIdle()
  }

  private checkIdle(): void {
    // Waiters first: `queued` walks the keys, and nothing waits for idle while a consumer runs.
    if (this.idleWaiters.length > 0 && this.active === 0 && this.queued === 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const resolve of waiters) resolve()
    }
  }
}
