interface Task {
  key: string | undefined
  run: () => Promise<void>
  abandon: () => void
}

/**
 * Runs tasks with at most `concurrency` at once, and tasks of the same key strictly one after the
 * other in submission order (the sequential convoy), while different keys run in parallel.
 * A busy key holds no slot: its waiting tasks sit aside until the running one finishes.
 */
export class KeySequencer {
  private active = 0
  private readonly ready: Task[] = []
  private readonly waitingByKey = new Map<string, Task[]>()
  private idleWaiters: Array<() => void> = []
  private readonly runningKeys = new Set<string>()

  constructor(private readonly concurrency: number) {}

  get running(): number {
    return this.active
  }

  get queued(): number {
    let count = this.ready.length
    for (const tasks of this.waitingByKey.values()) count += tasks.length
    return count
  }

  submit(key: string | undefined, run: () => Promise<void>, abandon: () => void): void {
    const task: Task = { key, run, abandon }
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

  /** Removes every task not yet started and calls its `abandon`. */
  abandonQueued(): void {
    const dropped = [...this.ready]
    this.ready.length = 0
    for (const [key, tasks] of this.waitingByKey) {
      dropped.push(...tasks.splice(0))
      if (!this.runningKeys.has(key)) this.waitingByKey.delete(key)
    }
    for (const task of dropped) task.abandon()
    this.checkIdle()
  }

  /** Resolves when nothing runs and nothing is queued. */
  whenIdle(): Promise<void> {
    if (this.active === 0 && this.queued === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private pump(): void {
    while (this.active < this.concurrency) {
      const task = this.ready.shift()
      if (!task) break
      this.active++
      if (task.key !== undefined) this.runningKeys.add(task.key)
      // One reaction for both outcomes: no extra promise per task for a catch and a finally.
      const done = () => this.finish(task)
      task.run().then(done, done)
    }
  }

  private finish(task: Task): void {
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
