import { redactUrl } from '@anymq/core'
import { runDemo } from './run-demo.js'
import { printTable } from './summary.js'

const url = process.env.ANYMQ_URL ?? 'memory://'
console.log(`anymq demo: order processing on ${redactUrl(url)}\n`)
const orders = Number(process.env.ANYMQ_DEMO_ORDERS ?? (onEmulator(url) ? 100 : 600))
if (!process.env.ANYMQ_DEMO_ORDERS && onEmulator(url)) {
  console.log(
    `${orders} orders instead of 600: an AWS API on a local endpoint is an emulator (moto answers one request at a time); ANYMQ_DEMO_ORDERS sets the number\n`,
  )
}
const summary = await runDemo({ url, orders })
printTable(`Summary (${summary.adapter})`, [
  ['orders sent', summary.sent],
  ['processed', summary.processed],
  ['retried (attempts)', summary.retried],
  ['dead-lettered', summary.deadLettered],
  ['redriven after fix', summary.redriven],
  ['duplicates (at-least-once)', summary.duplicates],
  ['invoicing events', summary.invoicing],
  ['notification events', summary.notifications],
  ['customer order violations', summary.orderViolations],
  ['latency p50 (send → shipped)', `${summary.latencyP50Ms} ms`],
  ['latency p99 (send → shipped)', `${summary.latencyP99Ms} ms`],
  ['elapsed', `${summary.elapsedMs} ms`],
])
if (summary.deadLetters.length > 0) {
  console.log('\nStill in the dead-letter queue:')
  for (const letter of summary.deadLetters) console.log(`  ${letter.orderId}  after ${letter.attempts} attempts: ${letter.error}`)
}
const consistent =
  summary.sent === summary.processed + summary.deadLettered && summary.invoicing === summary.processed && summary.notifications === summary.processed
console.log(
  `\n${consistent ? 'consistent' : 'INCONSISTENT'}: sent ${summary.sent} = processed ${summary.processed} + dead-lettered ${summary.deadLettered}; every subscription saw every shipped event`,
)
if (!consistent) process.exitCode = 1

/** `sqs://…?endpoint=http://127.0.0.1:…` or `kinesis://…?endpoint=…`: moto, LocalStack or ElasticMQ rather than AWS. */
function onEmulator(target: string): boolean {
  if (!/^(sqs|kinesis):/.test(target)) return false
  const endpoint = new URL(target).searchParams.get('endpoint')
  return endpoint !== null && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(endpoint)
}
