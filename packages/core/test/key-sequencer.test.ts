import { describe, expect, it } from 'vitest'
import { KeySequencer } from '../src/key-sequencer.js'

interface Job {
  key: string | undefined
  run: () => Promise<void>
  abandon: () => void
}

/** A sequencer of jobs that carry their own run and abandon, as the consumer engine's deliveries are run by it. */
function sequencerOf(concurrency: number) {
  const sequencer = new KeySequencer<Job>(
    concurrency,
    (job) => job.key,
    (job) => job.run(),
    (job) => job.abandon(),
  )
  return Object.assign(sequencer, {
    add: (key: string | undefined, run: () => Promise<void>, abandon: () => void) => sequencer.submit({ key, run, abandon }),
  })
}

function gate() {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

describe('key sequencer', () => {
  it('runs one key at a time in order and different keys in parallel, within the concurrency limit', async () => {
    const sequencer = sequencerOf(2)
    const log: string[] = []
    const gates = new Map<string, ReturnType<typeof gate>>()
    const task = (name: string) => async () => {
      log.push(`start ${name}`)
      const waiting = gate()
      gates.set(name, waiting)
      await waiting.promise
      log.push(`end ${name}`)
    }
    sequencer.add('a', task('a1'), () => {})
    sequencer.add('a', task('a2'), () => {})
    sequencer.add('b', task('b1'), () => {})
    sequencer.add(undefined, task('x1'), () => {})
    expect(log).toEqual(['start a1', 'start b1'])
    gates.get('a1')?.open()
    await new Promise((resolve) => setImmediate(resolve))
    expect(log).toEqual(['start a1', 'start b1', 'end a1', 'start x1'])
    gates.get('b1')?.open()
    await new Promise((resolve) => setImmediate(resolve))
    expect(log.slice(4)).toEqual(['end b1', 'start a2'])
    gates.get('x1')?.open()
    gates.get('a2')?.open()
    await sequencer.whenIdle()
    expect(sequencer.running).toBe(0)
  })

  it('abandons queued tasks on request and forgets their keys', async () => {
    const sequencer = sequencerOf(1)
    const abandoned: string[] = []
    const blocker = gate()
    sequencer.add(
      'a',
      () => blocker.promise,
      () => abandoned.push('a1'),
    )
    sequencer.add(
      'a',
      async () => {},
      () => abandoned.push('a2'),
    )
    sequencer.add(
      'b',
      async () => {},
      () => abandoned.push('b1'),
    )
    sequencer.abandonQueued()
    expect(abandoned).toEqual(['b1', 'a2'])
    blocker.open()
    await sequencer.whenIdle()
    let ran = false
    sequencer.add(
      'b',
      async () => {
        ran = true
      },
      () => {},
    )
    await sequencer.whenIdle()
    expect(ran).toBe(true)
  })
})

describe('key sequencer, abandoning a key whose first item never started', () => {
  it('drops the ready item and the ones waiting behind it, and runs that key again at once afterwards', async () => {
    const sequencer = sequencerOf(1)
    const abandoned: string[] = []
    const ran: string[] = []
    const blocker = gate()
    sequencer.add(
      undefined,
      () => blocker.promise,
      () => abandoned.push('x1'),
    )
    sequencer.add(
      'c',
      async () => void ran.push('c1'),
      () => abandoned.push('c1'),
    )
    sequencer.add(
      'c',
      async () => void ran.push('c2'),
      () => abandoned.push('c2'),
    )
    expect(sequencer.queued).toBe(2)
    sequencer.abandonQueued()
    expect(abandoned).toEqual(['c1', 'c2'])
    expect(sequencer.queued).toBe(0)
    blocker.open()
    await sequencer.whenIdle()
    sequencer.add(
      'c',
      async () => void ran.push('c3'),
      () => abandoned.push('c3'),
    )
    await sequencer.whenIdle()
    expect(ran).toEqual(['c3'])
  })
})

describe('key sequencer, items that finish synchronously', () => {
  it('frees the slot of an item whose run returned undefined in the same turn, in submission order', () => {
    const ran: number[] = []
    const sequencer = new KeySequencer<number>(
      1,
      (item) => (item % 2 === 0 ? 'even' : undefined),
      (item) => {
        ran.push(item)
        return undefined
      },
      () => {},
    )
    for (let item = 0; item < 5; item++) sequencer.submit(item)
    // No await: each item ran and freed the only slot before the next was submitted.
    expect(ran).toEqual([0, 1, 2, 3, 4])
    expect(sequencer.running).toBe(0)
    expect(sequencer.queued).toBe(0)
  })

  it('runs a long backlog of synchronous items in one loop, without nesting a call per item', async () => {
    const items = 50_000
    const blocker = gate()
    const ran: number[] = []
    const stackDepth: number[] = []
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = Number.POSITIVE_INFINITY
    try {
      const sequencer = new KeySequencer<number>(
        1,
        () => undefined,
        (item) => {
          ran.push(item)
          if (item === 1 || item === items - 1) stackDepth.push(new Error('depth').stack?.split('\n').length ?? 0)
          // The first item holds the only slot while the backlog builds up behind it.
          return item === 0 ? blocker.promise : undefined
        },
        () => {},
      )
      for (let item = 0; item < items; item++) sequencer.submit(item)
      expect(ran).toEqual([0])
      blocker.open()
      await sequencer.whenIdle()
      expect(ran).toHaveLength(items)
      expect(ran[items - 1]).toBe(items - 1)
      // The last item ran as deep in the stack as the second: one loop, not a call nested per item.
      expect(stackDepth[1]).toBe(stackDepth[0])
    } finally {
      Error.stackTraceLimit = limit
    }
  }, 10_000)

  it('frees the slot of an item that threw synchronously, and runs the next', () => {
    const ran: number[] = []
    const sequencer = new KeySequencer<number>(
      1,
      () => undefined,
      (item) => {
        ran.push(item)
        if (item === 0) throw new Error('boom')
        return undefined
      },
      () => {},
    )
    sequencer.submit(0)
    sequencer.submit(1)
    expect(ran).toEqual([0, 1])
    expect(sequencer.running).toBe(0)
  })

  it('runs what a run submits after that run, in submission order, never above the concurrency limit', () => {
    const ran: number[] = []
    let running = 0
    let most = 0
    const sequencer = new KeySequencer<number>(
      1,
      (item) => (item >= 10 ? 'k' : undefined),
      (item) => {
        running++
        most = Math.max(most, running)
        ran.push(item)
        // A handler sending to its own queue: its deliveries arrive while it still holds the slot.
        if (item < 3) {
          sequencer.submit(item + 10)
          sequencer.submit(item + 20)
        }
        running--
        return undefined
      },
      () => {},
    )
    sequencer.submit(0)
    sequencer.submit(1)
    expect(ran).toEqual([0, 10, 20, 1, 11, 21])
    expect(most).toBe(1)
    expect(sequencer.running).toBe(0)
    expect(sequencer.queued).toBe(0)
  })
})

describe('key sequencer, held', () => {
  it('starts nothing more once held, though a running item frees its slot, and abandons what it held', async () => {
    const sequencer = sequencerOf(1)
    const ran: string[] = []
    const abandoned: string[] = []
    const blocker = gate()
    sequencer.add(
      undefined,
      async () => {
        ran.push('a')
        await blocker.promise
      },
      () => abandoned.push('a'),
    )
    sequencer.add(
      'k',
      async () => void ran.push('b'),
      () => abandoned.push('b'),
    )
    sequencer.hold()
    sequencer.add(
      undefined,
      async () => void ran.push('c'),
      () => abandoned.push('c'),
    )
    blocker.open()
    await new Promise((resolve) => setImmediate(resolve))
    expect(ran).toEqual(['a'])
    expect(sequencer.running).toBe(0)
    expect(sequencer.queued).toBe(2)
    sequencer.abandonQueued()
    expect(abandoned).toEqual(['b', 'c'])
    await sequencer.whenIdle()
  })
})
