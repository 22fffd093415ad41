// temp profiling driver (not committed)
import { connect } from '@anymq/core'
import { adapter as rabbitAdapter } from './dist/index.js'

const codec = process.argv[2] ?? 'json'
const N = Number(process.argv[3] ?? 200000)
const mode = process.argv[4] ?? 'e2e'
const mq = await connect(process.env.ANYMQ_RABBITMQ_URL, { adapter: rabbitAdapter })
const pad = 'x'.repeat(960)
async function pump(q, body) {
  let sent = 0,
    inflight = 0,
    wake
  while (sent < N) {
    while (inflight < 64 && sent < N) {
      inflight++
      sent++
      q.send(body).then(() => {
        inflight--
        if (wake) {
          const w = wake
          wake = undefined
          w()
        }
      })
    }
    if (sent < N) await new Promise((r) => (wake = r))
  }
  while (inflight > 0) await new Promise((r) => (wake = r))
}
for (let round = 0; round < 3; round++) {
  const q = mq.queue(`profq-${Date.now()}-${round}`, { codec })
  const body = codec === 'raw' ? new Uint8Array(1024) : { run: 'abcdefgh', seq: 0, sentAt: 1.5, pad }
  let got = 0
  let done
  const finished = new Promise((r) => (done = r))
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  if (mode === 'publish') {
    await pump(q, body)
  } else {
    const sub = q.consume(
      async () => {
        if (++got === N) done()
      },
      { concurrency: 16 },
    )
    await sub.ready
    await pump(q, body)
    await finished
    await sub.close()
  }
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  console.log(`${mode} ${codec}: ${Math.round((N / ms) * 1000)} msg/s, ${((cpu.user + cpu.system) / N).toFixed(2)} µs CPU/msg`)
}
await mq.close()
