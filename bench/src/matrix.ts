import { consume, endToEnd, type Measurement, publishBatch, publishSingle, publishWindow, type RunContext, requestReply } from './workloads.js'

export type Mode = 'quick' | 'default' | 'full'

/** One cell of the matrix: a workload at one body size, run on both sides. */
export interface Cell {
  id: string
  /** `publish`, `consume`, `end-to-end`, `latency`, `request-reply`, `scaling`. */
  group: string
  label: string
  bytes: number
  messages: number
  /** Throughput cells compare msg/s; latency cells compare percentiles. */
  measures: 'throughput' | 'latency'
  /** Record RSS after the run (scaling). */
  rss?: boolean
  /** Runs per side; scaling at 1M runs once per side. */
  reps?: number
  /** Set when the workload makes no sense for this broker: reported as "not run: <why>", never dropped. */
  notRun?: string
  run(context: RunContext): Promise<Measurement>
}

/**
 * Messages per broker for the basic 1 KB throughput cells (the default mode); the others scale from it.
 * Sized so that a timed run on a broker lasts about a second on a 2-core machine: with 5,000 messages
 * RabbitMQ's and Redis' runs took 50–500 ms. Memory stays at 50,000: its publish cells keep every
 * message stored until the run ends, and at 200,000 × 1 KB they measured the heap's growth (wave 21).
 */
const baseMessages: Record<string, number> = {
  memory: 50_000,
  rabbitmq: 15_000,
  'rabbitmq-seconds': 5_000,
  kafka: 5_000,
  'kafka-platformatic': 5_000,
  redis: 20_000,
  'redis-node': 20_000,
  sqs: 200,
  'sqs-eventbridge': 200,
  kinesis: 1_000,
}
/** Messages of the 64 KB cells: a tenth of what the base was before wave 21. */
const largeMessages: Record<string, number> = { memory: 5_000, rabbitmq: 500, redis: 500, 'redis-node': 1_000, kafka: 500, 'kafka-platformatic': 500 }
/**
 * Messages of the consume cells where they differ from the base: a Kafka consumer drains 5,000 records in
 * about 30 ms, which measures how fast each side's code warms up (anymq's reached the raw client's rate
 * only after ~60,000 records in a process), not consumption; 40,000 still drained in 90–380 ms.
 */
const consumeMessages: Record<string, number> = { kafka: 120_000, 'kafka-platformatic': 120_000 }
/**
 * Messages of the sendBatch cells where they differ from the base: 5,000 records in batches of 100 take
 * 120–500 ms on Kafka, and on a shared 2-core box single runs of one side spread 3× (13.9k–40.7k msg/s
 * anymq, 10.1k–36.1k raw, six runs each at load 6), so the median of two swung from 0.49× to 1.19×.
 * Redis takes a batch of 100 × 100 B in about a millisecond: 5,000 messages were a 50–90 ms run.
 */
const batchMessages: Record<string, number> = { kafka: 40_000, 'kafka-platformatic': 40_000, redis: 50_000, 'redis-node': 50_000 }
/**
 * Messages of the "await each send" cells where they differ from a fifth of the base: a Kafka client
 * library's produce path costs ~2× its warm CPU per send for its first few hundred sends (@platformatic/kafka,
 * standalone, 1,000 timed 1 KB sends after 100 / 300 / 1,000 / 3,000 untimed: 324–437 / 217–357 / 231–240 /
 * 133–200 µs), and with 1,000 messages (100 to warm each side) anymq's first run, the first timed one of the
 * section, paid for the library both sides share: 473 µs against 333 for its second (20:36 run).
 */
const awaitMessages: Record<string, number> = { kafka: 5_000, 'kafka-platformatic': 5_000 }
/** Fixed rate for the latency cell: moderate for each broker (moto serves SQS, EventBridge and Kinesis from one Python process). */
const latencyRate: Record<string, number> = {
  memory: 5_000,
  rabbitmq: 1_000,
  'rabbitmq-seconds': 1_000,
  kafka: 1_000,
  'kafka-platformatic': 1_000,
  redis: 1_000,
  sqs: 20,
  'sqs-eventbridge': 20,
  kinesis: 50,
}
const requests: Record<string, number> = {
  memory: 5_000,
  rabbitmq: 1_000,
  'rabbitmq-seconds': 1_000,
  kafka: 500,
  'kafka-platformatic': 500,
  redis: 1_000,
  sqs: 50,
  kinesis: 30,
}
/** Workloads a broker cannot run, with the reason the report prints. */
const notRunnable: Record<string, Record<string, string>> = {
  'sqs-eventbridge': { 'request-reply': 'request/reply runs over queues, which are plain SQS on this connection: see the sqs rows' },
}
const scaling: Record<string, number[]> = {
  memory: [10_000, 100_000, 1_000_000],
  rabbitmq: [10_000, 100_000, 1_000_000],
  kafka: [10_000, 100_000, 1_000_000],
  'kafka-platformatic': [10_000, 100_000, 1_000_000],
  redis: [10_000, 100_000, 1_000_000],
  // moto answers one request at a time; 100k would take most of an hour
  sqs: [1_000, 10_000],
  'sqs-eventbridge': [1_000, 10_000],
  kinesis: [1_000, 10_000],
}

const KB = 1024
const sizeLabel = (bytes: number) => (bytes >= KB ? `${bytes / KB} KB` : `${bytes} B`)

/** The cells to run for one broker in one mode, in order. */
export function cellsFor(broker: string, mode: Mode): Cell[] {
  const scale = mode === 'quick' ? 0.25 : 1
  const base = Math.round((baseMessages[broker] ?? 10_000) * scale)
  const large = Math.max(50, Math.round((largeMessages[broker] ?? (baseMessages[broker] ?? 10_000) / 10) * scale))
  const forSize = (bytes: number) => (bytes >= 64 * KB ? large : base)
  const cells: Cell[] = []
  const add = (cell: Omit<Cell, 'measures'> & { measures?: Cell['measures'] }) => cells.push({ measures: 'throughput', ...cell })
  const throughput = (bytes: number, which: string[]) => {
    const messages = forSize(bytes)
    const size = sizeLabel(bytes)
    if (which.includes('publish-await')) {
      const awaited = (bytes < 64 * KB && Math.round((awaitMessages[broker] ?? 0) * scale)) || Math.max(50, Math.round(messages / 5))
      add({
        id: `publish-await-${bytes}`,
        group: 'publish',
        label: 'publish, await each send',
        bytes,
        messages: awaited,
        run: (context) => publishSingle(context, awaited, 1),
      })
    }
    if (which.includes('publish-pipelined'))
      add({
        id: `publish-pipelined-${bytes}`,
        group: 'publish',
        label: `publish, one send per message, ${publishWindow} in flight`,
        bytes,
        messages,
        run: (context) => publishSingle(context, messages, publishWindow),
      })
    const batched = bytes < 64 * KB && batchMessages[broker] ? Math.round(batchMessages[broker] * scale) : messages
    if (which.includes('publish-batch'))
      add({
        id: `publish-batch-${bytes}`,
        group: 'publish',
        label: 'publish, sendBatch of 100',
        bytes,
        messages: batched,
        run: (context) => publishBatch(context, batched, 100),
      })
    const drained = bytes < 64 * KB && consumeMessages[broker] ? Math.round(consumeMessages[broker] * scale) : messages
    for (const concurrency of [1, 16]) {
      if (which.includes(`consume-c${concurrency}`))
        add({
          id: `consume-c${concurrency}-${bytes}`,
          group: 'consume',
          label: `consume (pre-filled), concurrency ${concurrency}`,
          bytes,
          messages: drained,
          run: (context) => consume(context, drained, concurrency),
        })
    }
    for (const concurrency of [1, 16]) {
      if (which.includes(`e2e-c${concurrency}`))
        add({
          id: `e2e-c${concurrency}-${bytes}`,
          group: 'end-to-end',
          label: `end-to-end, concurrency ${concurrency}`,
          bytes,
          messages,
          run: (context) => endToEnd(context, messages, concurrency),
        })
    }
    void size
  }
  const all = ['publish-await', 'publish-pipelined', 'publish-batch', 'consume-c1', 'consume-c16', 'e2e-c1', 'e2e-c16']
  if (mode === 'quick') throughput(KB, ['publish-await', 'publish-batch', 'e2e-c16'])
  else if (mode === 'default') {
    throughput(KB, all)
    // Small messages show a client's fixed per-message cost best: every 1 KB cell runs at 100 B too.
    throughput(100, all)
    throughput(64 * KB, ['publish-batch', 'e2e-c16'])
  } else for (const bytes of [100, KB, 64 * KB]) throughput(bytes, all)
  const rate = latencyRate[broker] ?? 1000
  const latencyMessages = Math.round(rate * (mode === 'quick' ? 1 : 3))
  add({
    id: 'latency-1024',
    group: 'latency',
    label: `end-to-end latency at ${rate} msg/s, concurrency 16`,
    bytes: KB,
    messages: latencyMessages,
    measures: 'latency',
    run: (context) => endToEnd(context, latencyMessages, 16, { rate, recordLatency: true, window: 256 }),
  })
  const requestCount = Math.round((requests[broker] ?? 500) * scale)
  add({
    id: 'request-reply-1024',
    group: 'request-reply',
    label: 'request/reply round trip, sequential',
    bytes: KB,
    messages: requestCount,
    measures: 'latency',
    run: (context) => requestReply(context, requestCount),
  })
  const steps = mode === 'full' ? (scaling[broker] ?? []) : mode === 'default' && broker === 'memory' ? (scaling.memory ?? []) : []
  for (const messages of steps) {
    add({
      id: `scaling-${messages}`,
      group: 'scaling',
      label: `scaling: end-to-end, concurrency 16, ${messages >= 1_000_000 ? `${messages / 1_000_000}M` : `${messages / 1000}k`} messages`,
      bytes: KB,
      messages,
      rss: true,
      reps: messages >= 1_000_000 || (broker !== 'memory' && messages >= 100_000) ? 1 : undefined,
      run: (context) => endToEnd(context, messages, 16),
    })
  }
  for (const cell of cells) cell.notRun = notRunnable[broker]?.[cell.group]
  return cells
}
