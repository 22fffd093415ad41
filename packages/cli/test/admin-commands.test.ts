import '@anymq/aws'
import { brokerUrl, uniqueName } from '@anymq/conformance'
import { connect, Unrecoverable } from '@anymq/core'
import '@anymq/memory'
import { describe, expect, it } from 'vitest'
import { statsCommand } from '../src/index.js'
import { anymq } from './run-cli.js'

/** Dead-letters `bodies` on `url`'s queue `name` and resolves with their ids, oldest first. */
async function deadLetter(url: string, name: string, bodies: unknown[]): Promise<string[]> {
  const mq = await connect(url)
  const queue = mq.queue(name, { retry: false })
  const { ids } = await queue.sendBatch(bodies)
  const failing = queue.consume(() => {
    throw new Unrecoverable('refused by the CLI test')
  })
  for (let seen = 0; seen < bodies.length; seen = (await queue.deadLetters().peek(100)).length) await new Promise((resolve) => setTimeout(resolve, 20))
  await failing.close()
  await mq.close()
  return ids
}

describe('anymq stats', () => {
  it('prints the depths of the named queues and of every queue anymq made, as a table', async () => {
    const url = 'memory://cli-stats'
    const mq = await connect(url)
    await mq.queue('stats-orders').sendBatch([1, 2, 3])
    await deadLetter(url, 'stats-payments', ['bad'])
    const named = await anymq('stats', url, 'stats-orders')
    expect(named.code).toBe(0)
    const [header, row] = named.stdout.trim().split('\n')
    expect(header).toMatch(/^name +ready +in flight +dead +consumers +oldest$/)
    expect(row).toMatch(/^stats-orders +3 +0 +0 +0 +\d+ ms$/)
    const all = await anymq('stats', url, '--prefix', 'stats-')
    expect(all.stdout).toMatch(/^stats-payments +0 +0 +1 +0 +- *$/m)
    expect(all.stdout).toMatch(/^stats-payments\.dlq +1 +0 +0 +0 +\d+ ms$/m)
    await mq.close()
  })

  it('says so when nothing anymq made matches the prefix', async () => {
    const { code, stdout } = await anymq('stats', 'memory://cli-stats-empty', '--prefix', 'nothing-here-')
    expect(code).toBe(0)
    expect(stdout).toBe('nothing anymq made on memory://cli-stats-empty starting with nothing-here-\n')
  })
})

describe('anymq stats --watch', () => {
  it('redraws the table until stopped, with the counts of the moment', async () => {
    const url = 'memory://cli-stats-watch'
    const mq = await connect(url)
    const queue = mq.queue('watched')
    await queue.send('first')
    const stop = new AbortController()
    const frames: string[] = []
    const io = {
      stdout: {
        write: (text: string) => {
          frames.push(text)
          if (/^watched +2 /m.test(text)) stop.abort()
          else if (/^watched +1 /m.test(text)) void queue.send('second')
          return true
        },
      },
      stderr: { write: () => true },
    }
    expect(await statsCommand([url, 'watched', '--watch', '--interval', '50'], io, stop.signal)).toBe(0)
    const tables = frames.filter((text) => text.startsWith('name'))
    expect(tables[0]).toMatch(/^watched +1 /m)
    expect(tables.at(-1)).toMatch(/^watched +2 /m)
    await mq.close()
  })
})

describe('anymq dlq per message', () => {
  it('redrives one, deletes one and edits one dead letter by id', async () => {
    const url = 'memory://cli-dlq-one'
    const [first, second, third] = await deadLetter(url, 'refunds', [{ n: 1 }, { n: 2 }, { n: 3 }])
    const deleted = await anymq('dlq', 'delete-one', url, 'refunds', first as string)
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted ${first} from refunds.dlq\n` })
    const again = await anymq('dlq', 'delete-one', url, 'refunds', first as string)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain(`no dead letter with id ${first} in refunds.dlq`)
    expect((await anymq('dlq', 'redrive-one', url, 'refunds', second as string)).code).toBe(0)
    const edited = await anymq('dlq', 'edit', url, 'refunds', third as string, '--body', '{"n":30}', '--header', 'fixed=by-hand')
    expect(edited.stdout).toBe(`edited and redrove ${third} from refunds.dlq back to refunds\n`)
    const consumed = await anymq('consume', url, 'refunds', '--count', '2', '--timeout', '5')
    const messages = consumed.stdout
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text))
    expect(messages.map((message) => message.body)).toEqual([{ n: 2 }, { n: 30 }])
    expect(messages[1].headers).toEqual({ fixed: 'by-hand' })
    const left = await anymq('dlq', 'peek', url, 'refunds')
    expect(left.stdout).toBe('')
  })

  it('refuses an id with peek and a missing id with redrive-one', async () => {
    expect((await anymq('dlq', 'redrive-one', 'memory://cli-dlq-one', 'refunds')).code).toBe(2)
    expect((await anymq('dlq', 'peek', 'memory://cli-dlq-one', 'refunds', 'some-id')).code).toBe(2)
  })
})

const sqs = brokerUrl('ANYMQ_SQS_URL')

describe.skipIf(!sqs)(`anymq stats and dlq on SQS${sqs ? '' : ' (ANYMQ_SQS_URL unset: run scripts/brokers.sh up sqs)'}`, () => {
  it('prints SQS depths (consumers and ages it does not tell as -) and takes one dead letter by id', async () => {
    const url = `${sqs}&waitTimeSeconds=1`
    const name = uniqueName('cli-sqs')
    const [first, second] = await deadLetter(url, name, [{ n: 1 }, { n: 2 }])
    const mq = await connect(url)
    await mq.queue(name).sendBatch([3, 4, 5])
    await mq.close()
    // The dead-lettering connection closed with a long poll pending: SQS may hand that poll one of the new
    // messages, which then counts as in flight until its visibility timeout. Ready + in flight is exact.
    const row = async (): Promise<number[]> => {
      const match = new RegExp(`^${name} +(\\d+) +(\\d+) +(\\d+) +- +- *$`, 'm').exec((await anymq('stats', url, name)).stdout)
      return match ? match.slice(1).map(Number) : []
    }
    const [ready, inFlight, dead] = await row()
    expect([(ready ?? 0) + (inFlight ?? 0), dead]).toEqual([3, 2])
    const listed = await anymq('stats', url, '--prefix', name)
    expect(listed.stdout).toMatch(new RegExp(`^${name}\\.dlq +2 +0 +0 +- +- *$`, 'm'))
    expect(await anymq('dlq', 'delete-one', url, name, first as string)).toMatchObject({ code: 0, stdout: `deleted ${first} from ${name}.dlq\n` })
    expect((await anymq('dlq', 'redrive-one', url, name, second as string)).code).toBe(0)
    const [readyAfter, inFlightAfter, deadAfter] = await row()
    expect([(readyAfter ?? 0) + (inFlightAfter ?? 0), deadAfter]).toEqual([4, 0])
  })
})
