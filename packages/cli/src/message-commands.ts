import { parseArgs } from 'node:util'
import { capabilityReport } from './capability-report.js'
import { type CliIo, line, UsageError } from './cli-io.js'
import { connectUrl } from './connect-url.js'
import { noteInProcessBroker } from './in-process-note.js'
import { parseCount } from './statistics.js'

export const sendUsage = `anymq send <url> <queue> <json> [--key <key>] [--header name=value]... [--count <n>]
  Sends a JSON body (or text that is not JSON, as a JSON string) and prints its id.`

export const consumeUsage = `anymq consume <url> <queue> [--count <n>] [--timeout <s>]
  Prints received messages as JSON lines and acks them; stops after --count messages (default 1) or
  --timeout seconds without one (default 10).`

export const deadLetterUsage = `anymq dlq peek <url> <queue> [--limit <n>]      dead letters of a queue, without taking them
anymq dlq redrive <url> <queue> [--limit <n>]   move them back to the queue as fresh messages
anymq dlq redrive-one <url> <queue> <id>        move one dead letter back, leaving the others
anymq dlq delete-one <url> <queue> <id>         delete one dead letter for good
anymq dlq edit <url> <queue> <id> [--body <json>] [--header name=value …]
                                                change one dead letter, then move it back`

export const doctorUsage = `anymq doctor <url>
  Connects, prints the adapter, the URL with its secrets redacted, and the broker's capabilities.`

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** A `--name` option holding a whole number ≥ 1, or `fallback` when absent. */
export function count(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  const parsed = parseCount(value)
  if (parsed === undefined || parsed < 1) throw new UsageError(`--${name} takes a whole number ≥ 1, got ${JSON.stringify(value)}`)
  return parsed
}

export async function sendCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { key: { type: 'string' }, header: { type: 'string', multiple: true }, count: { type: 'string' } },
  })
  const [url, queueName, body] = positionals
  if (url === undefined || queueName === undefined || body === undefined || positionals.length > 3)
    throw new UsageError('anymq send takes <url> <queue> <json>')
  const headers: Record<string, string> = {}
  for (const header of values.header ?? []) {
    const split = header.indexOf('=')
    if (split <= 0) throw new UsageError(`--header takes name=value, got ${JSON.stringify(header)}`)
    headers[header.slice(0, split)] = header.slice(split + 1)
  }
  const times = count(values.count, 1, 'count')
  const mq = await connectUrl(url, io)
  noteInProcessBroker(mq, io, 'what this command sends is gone when it exits, unless this same process consumes it')
  try {
    const queue = mq.queue(queueName)
    for (let index = 0; index < times; index++) {
      const { id } = await queue.send(parseJsonOrText(body), { key: values.key, headers })
      line(io.stdout, id)
    }
  } finally {
    await mq.close()
  }
  return 0
}

export async function consumeCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { count: { type: 'string' }, timeout: { type: 'string' } } })
  const [url, queueName] = positionals
  if (url === undefined || queueName === undefined || positionals.length > 2) throw new UsageError('anymq consume takes <url> <queue>')
  const wanted = count(values.count, 1, 'count')
  const idleMs = count(values.timeout, 10, 'timeout') * 1000
  const mq = await connectUrl(url, io)
  noteInProcessBroker(mq, io, `only messages sent inside this same process can arrive, so from a shell this waits ${idleMs / 1000} s for nothing`)
  let received = 0
  try {
    await new Promise<void>((resolve) => {
      let idle = setTimeout(resolve, idleMs)
      const subscription = mq.queue(queueName).consume(
        (message) => {
          if (received >= wanted) throw new Error('enough messages taken; handing this one back')
          received++
          line(
            io.stdout,
            JSON.stringify({
              id: message.id,
              key: message.key,
              attempt: message.attempt,
              timestamp: message.timestamp.toISOString(),
              headers: message.headers,
              body: message.body,
            }),
          )
          clearTimeout(idle)
          if (received >= wanted) resolve()
          else idle = setTimeout(resolve, idleMs)
        },
        { concurrency: 1 },
      )
      subscription.ready.catch(() => resolve())
    })
  } finally {
    await mq.close()
  }
  if (received < wanted) {
    const why = mq.adapter === 'memory' ? ` (${url} is in-process: nothing sent by another process reaches it)` : ''
    line(io.stderr, `received ${received} of ${wanted} messages before ${idleMs / 1000} s passed without one${why}`)
  }
  return received > 0 ? 0 : 1
}

const deadLetterActions = ['peek', 'redrive', 'redrive-one', 'delete-one', 'edit'] as const

export async function deadLetterCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { limit: { type: 'string' }, body: { type: 'string' }, header: { type: 'string', multiple: true } },
  })
  const [action, url, queueName, id] = positionals
  const known = (deadLetterActions as readonly string[]).includes(action ?? '')
  const needsId = action === 'redrive-one' || action === 'delete-one' || action === 'edit'
  if (!known || url === undefined || queueName === undefined || (needsId ? id === undefined : id !== undefined) || positionals.length > 4) {
    throw new UsageError('anymq dlq takes peek|redrive <url> <queue>, or redrive-one|delete-one|edit <url> <queue> <message id>')
  }
  if (action !== 'edit' && (values.body !== undefined || values.header !== undefined)) throw new UsageError('--body and --header go with anymq dlq edit only')
  const mq = await connectUrl(url, io)
  noteInProcessBroker(mq, io, 'its dead-letter queues hold only what failed inside this same process')
  try {
    const deadLetters = mq.queue(queueName).deadLetters()
    if (action === 'peek') {
      const letters = await deadLetters.peek(count(values.limit, 10, 'limit'))
      // stdout stays one JSON line per dead letter; the empty case is said on stderr.
      if (letters.length === 0) line(io.stderr, `no dead letters in ${deadLetters.name}`)
      for (const letter of letters) {
        const { rawBody: _bytes, ...shown } = letter
        line(io.stdout, JSON.stringify(shown))
      }
      return 0
    }
    if (action === 'redrive') {
      const moved = await deadLetters.redrive(values.limit === undefined ? {} : { limit: count(values.limit, 1, 'limit') })
      line(io.stdout, `moved ${moved} dead letters from ${deadLetters.name} back to ${queueName}`)
      return 0
    }
    const messageId = id as string
    let done: boolean
    if (action === 'redrive-one') done = await deadLetters.redriveOne(messageId)
    else if (action === 'delete-one') done = await deadLetters.deleteOne(messageId)
    else done = await deadLetters.editAndRedrive(messageId, editOf(values.body, values.header))
    const what =
      action === 'delete-one'
        ? `deleted ${messageId} from ${deadLetters.name}`
        : `${action === 'edit' ? 'edited and redrove' : 'redrove'} ${messageId} from ${deadLetters.name} back to ${queueName}`
    if (done) line(io.stdout, what)
    else line(io.stderr, `no dead letter with id ${messageId} in ${deadLetters.name}`)
    return done ? 0 : 1
  } finally {
    await mq.close()
  }
}

/** `--body` is JSON (a bare word is taken as a string); each `--header name=value` replaces the user headers. */
function editOf(body: string | undefined, headers: string[] | undefined): { body?: unknown; headers?: Record<string, string> } {
  const edit: { body?: unknown; headers?: Record<string, string> } = {}
  if (body !== undefined) edit.body = parseJsonOrText(body)
  if (headers !== undefined) {
    edit.headers = {}
    for (const pair of headers) {
      const at = pair.indexOf('=')
      if (at < 1) throw new UsageError(`--header takes name=value, got ${JSON.stringify(pair)}`)
      edit.headers[pair.slice(0, at)] = pair.slice(at + 1)
    }
  }
  if (edit.body === undefined && edit.headers === undefined) throw new UsageError('anymq dlq edit needs --body and/or --header')
  return edit
}

export async function doctorCommand(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} })
  const [url] = positionals
  if (url === undefined || positionals.length > 1) throw new UsageError('anymq doctor takes one broker URL')
  const started = performance.now()
  const mq = await connectUrl(url, io)
  try {
    line(io.stdout, `connected to ${mq.url} with the ${mq.adapter} adapter in ${(performance.now() - started).toFixed(0)} ms`)
    line(io.stdout)
    for (const text of capabilityReport(mq.capabilities)) line(io.stdout, text)
  } finally {
    await mq.close()
  }
  return 0
}
