interface Task<T> {
  key: string | undefined
  item: T
}

/**
 * Runs items with at most `concurrency` at once, and items of the same key strictly one after the
 * other in submission order (the sequential convoy), while different keys run in parallel.
 * A busy key holds no slot: its waiting items sit aside until the running one finishes.
 * `run` and `abandon` are given once, so submitting an item creates no closure. An item whose `run`
 * finished synchronously (returned `undefined`) frees its slot at once, in the same turn.
 */
export class KeySequencer<T> {
  private active = 0
  private readonly ready: Task<T>[] = []
  private readonly waitingByKey = new Map<string, Task<T>[]>()
  private idleWaiters: Array<() => void> = []
  private readonly runningKeys = new Set<string>()
  /** Inside {@link pump}'s loop: an item that finishes synchronously, or one submitted from a handler, is picked up by that loop, not by a nested one. */
  private pumping = false

  constructor(
    private readonly concurrency: number,
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
    for (const tasks of this.waitingByKey.values()) count += tasks.length
    return count
  }

  submit(key: string | undefined, item: T): void {
    const task: Task<T> = { key, item }
    if (key !== undefined) {
      const waiting = this.waitingByKey.get(key)
      if (waiting) {
        waiting.push(task)
        return
      }
      this.waitingByKey.set(key, [])
    }
    this.ready.push(task)
    this.pump()
  }

  /** Removes every item not yet started and calls `abandon` for it. */
  abandonQueued(): void {
    const dropped = [...this.ready]
    this.ready.length = 0
    for (const [key, tasks] of this.waitingByKey) {
      dropped.push(...tasks.splice(0))
      if (!this.runningKeys.has(key)) this.waitingByKey.delete(key)
    }
    for (const task of dropped) this.abandon(task.item)
    this.checkIdle()
  }

  /** Resolves when nothing runs and nothing is queued. */
  whenIdle(): Promise<void> {
    if (this.active === 0 && this.queued === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private pump(): void {
    if (this.pumping) return
    this.pumping = true
    try {
      while (this.active < this.concurrency) {
        const task = this.ready.shift()
        if (!task) break
        this.active++
        if (task.key !== undefined) this.runningKeys.add(task.key)
        this.start(task)
      }
    } finally {
      this.pumping = false
    }
  }

  private start(task: Task<T>): void {
    let running: Promise<void> | undefined
    try {
      running = this.run(task.item)
    } catch {
      // The runner reports its own failures; a throw only frees the slot, as a success does.
      running = undefined
    }
    if (running === undefined) this.finish(task)
    else void this.finishAfter(task, running)
  }

  /** One promise per task for both outcomes: no closure for a `then`, no extra promise for a catch and a finally. */
  private async finishAfter(task: Task<T>, running: Promise<void>): Promise<void> {
    try {
      await running
    } catch {
      // As in start(): a rejection only frees the slot.
    }
    this.finish(task)
  }

  private finish(task: Task<T>): void {
    this.active--
    if (task.key !== undefined) {
      this.runningKeys.delete(task.key)
      const waiting = this.waitingByKey.get(task.key)
      const next = waiting?.shift()
      if (next) this.ready.push(next)
      else this.waitingByKey.delete(task.key)
    }
    this.pump()
    this.checkIdle()
  }

  private checkIdle(): void {
    if (this.active === 0 && this.queued === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const resolve of waiters) resolve()
    }
  }
}
