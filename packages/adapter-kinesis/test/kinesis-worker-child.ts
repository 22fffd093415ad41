import { connect, silentLogger } from '@anymq/core'
import { adapter } from '../src/index.js'

// A worker that holds every record it gets and never finishes: killed, it leaves leases behind.
const [url, queue] = process.argv.slice(2) as [string, string]
const mq = await connect(url, { adapter, logger: silentLogger })
const subscription = mq.queue<string>(queue).consume(
  async (message) => {
    process.stdout.write(`got ${message.body}\n`)
    await new Promise(() => {})
  },
  { concurrency: 100 },
)
await subscription.ready
process.stdout.write('ready\n')
