import { parseArgs } from 'node:util'
import { type CliIo, line, UsageError } from './cli-io.js'
import { connectUrl } from './connect-url.js'
import { runEndToEnd } from './end-to-end.js'
import { ProgressBar } from './progress-bar.js'
import { formatBytes, formatCount, formatMilliseconds, parseBytes, parseCount } from './statistics.js'

export const benchUsage = `anymq bench <url> [options]
  End-to-end workload against any broker: a consumer attaches, a producer sends JSON messages, and
  every message is handled and acked. Prints throughput, counts in/out and a latency histogram.
    --messages <n>      messages to send (default 10000; 10k, 1M accepted)
    --size <bytes>      encoded body size (default 1KB; 100B, 64KB accepted)
    --concurrency <n>   handlers running at once (default 16)
    --batch <n>         messages per sendBatch call; 1 = one send per message (default 1)
    --window <n>        publish calls in flight at once (default 64)
    --rate <n>          publish at n messages/s, to read latency at a fixed rate (default: full speed)
    --queue <name>      queue to use (default anymq.bench; leftovers of other runs are skipped)
    --timeout <s>       give up after this many seconds and report what is missing (default 300)
    --json              print the result as JSON`

function positiveCount(value: string | undefined, fallback: number, name: string, minimum = 1): number {
  if (value === undefined) return fallback
  const parsed = parseCount(value)
  if (parsed === undefined || parsed < minimum) throw new UsageError(`--${name} takes a whole number ≥ ${minimum}, got ${JSON.stringify(value)}`)
  return parsed
}

/** `anymq bench <url>`: exit code 0 when every message came through, 1 when some are missing. */
export async function benchCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      messages: { type: 'string' },
      size: { type: 'string' },
      concurrency: { type: 'string' },
      batch: { type: 'string' },
      window: { type: 'string' },
      rate: { type: 'string' },
      queue: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
    },
  })
  const url = positionals[0]
  if (url === undefined || positionals.length > 1) throw new UsageError('anymq bench takes one broker URL')
  const bytes = values.size === undefined ? 1024 : parseBytes(values.size)
  if (bytes === undefined || bytes < 1) throw new UsageError(`--size takes a size such as 100B, 1KB, 64KB; got ${JSON.stringify(values.size)}`)
  const options = {
    queue: values.queue ?? 'anymq.bench',
    messages: positiveCount(values.messages, 10_000, 'messages'),
    bytes,
    concurrency: positiveCount(values.concurrency, 16, 'concurrency'),
    batch: positiveCount(values.batch, 1, 'batch'),
    window: positiveCount(values.window, 64, 'window'),
    rate: values.rate === undefined ? undefined : positiveCount(values.rate, 1, 'rate'),
    timeoutMs: positiveCount(values.timeout, 300, 'timeout') * 1000,
  }
  const mq = await connectUrl(url, io)
  const progress = new ProgressBar(io.stderr)
  let result: Awaited<ReturnType<typeof runEndToEnd>>
  try {
    if (!values.json) {
      line(io.stdout, `anymq bench ${mq.url} (adapter ${mq.adapter})`)
      line(
        io.stdout,
        `${options.messages} messages of ${formatBytes(bytes)} JSON, consumer concurrency ${options.concurrency}, ` +
          `${options.batch === 1 ? 'one send per message' : `sendBatch of ${options.batch}`}, ${options.window} in flight` +
          `${options.rate === undefined ? ', full speed' : `, paced at ${options.rate} msg/s`}, queue ${options.queue}`,
      )
    }
    result = await runEndToEnd(mq, {
      ...options,
      onProgress: (consumed) => progress.update(consumed, options.messages, 'consumed'),
    })
  } finally {
    progress.clear()
    await mq.close()
  }
  const latency = result.latency.summary()
  if (values.json) {
    const { latency: _recorder, ...counts } = result
    line(io.stdout, JSON.stringify({ url: mq.url, adapter: mq.adapter, ...options, ...counts, latency }, null, 2))
  } else {
    line(io.stdout)
    line(
      io.stdout,
      `sent      ${result.published} in ${(result.publishMs / 1000).toFixed(2)} s   ${formatCount(result.publishRate)} msg/s published (confirmed by the broker)`,
    )
    line(
      io.stdout,
      `received  ${result.consumed} in ${(result.totalMs / 1000).toFixed(2)} s   ${formatCount(result.endToEndRate)} msg/s end to end (handled and acked)`,
    )
    line(
      io.stdout,
      `counts    in ${result.published}  out ${result.consumed}  missing ${result.missing}  duplicates ${result.duplicates}  stale skipped ${result.stale}`,
    )
    line(
      io.stdout,
      `latency   p50 ${formatMilliseconds(latency.p50)} ms  p95 ${formatMilliseconds(latency.p95)} ms  p99 ${formatMilliseconds(latency.p99)} ms  max ${formatMilliseconds(latency.max)} ms  (send → handler${options.rate === undefined ? '; at full speed this includes queueing, use --rate for latency at a fixed rate' : ''})`,
    )
    if (result.latency.count > 0) {
      line(io.stdout)
      line(io.stdout, result.latency.renderHistogram())
    }
    if (result.timedOut) line(io.stdout, `\ntimed out after ${options.timeoutMs / 1000} s with ${result.missing} messages missing`)
  }
  return result.missing === 0 ? 0 : 1
}
