// Run by tls.test.ts in a process of its own: connects to argv[2] (a server that refuses the password),
// then prints one JSON line on exit: how long the process lived after connect() rejected, and what
// was logged meanwhile.
import { connect, type Logger } from '@anymq/core'
import { adapter } from '../src/index.js'

const logged: string[] = []
const note = (message: string) => logged.push(message)
const logger: Logger = { debug: () => {}, info: note, warn: note, error: note }
let rejectedAt = 0
let reason: string | undefined
process.on('exit', () => {
  process.stdout.write(`${JSON.stringify({ reason, aliveAfterRejectMs: Date.now() - rejectedAt, logged })}\n`)
})
try {
  await connect(process.argv[2] as string, { adapter, logger })
  reason = 'connected'
  process.exit(1)
} catch (error) {
  rejectedAt = Date.now()
  reason = (error as { reason?: string }).reason
}
