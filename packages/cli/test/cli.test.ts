import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { LatencyRecorder, parseBytes, parseCount } from '../src/index.js'
import { anymq } from './run-cli.js'

const run = promisify(execFile)

describe('anymq bench', () => {
  it('runs the end-to-end workload on memory:// and reports counts in = counts out', async () => {
    const { code, stdout } = await anymq('bench', 'memory://cli-bench', '--messages', '2000', '--size', '1KB', '--concurrency', '16')
    expect(code).toBe(0)
    expect(stdout).toMatch(/^anymq bench memory:\/\/cli-bench \(adapter memory\)$/m)
    expect(stdout).toMatch(/^2000 messages of 1 KB JSON, consumer concurrency 16/m)
    expect(stdout).toMatch(/^sent {6}2000 in \d+\.\d\d s {3}\S+( \S)? msg\/s published/m)
    expect(stdout).toMatch(/^received {2}2000 in \d+\.\d\d s {3}\S+( \S)? msg\/s end to end/m)
    expect(stdout).toMatch(/^counts {4}in 2000 {2}out 2000 {2}missing 0 {2}duplicates 0/m)
    expect(stdout).toMatch(/^latency {3}p50 [\d.]+ ms {2}p95 [\d.]+ ms {2}p99 [\d.]+ ms {2}max [\d.]+ ms/m)
    const histogram = stdout.split('\n').filter((line) => / ms │/.test(line))
    expect(histogram.length).toBeGreaterThan(0)
    const counted = histogram.reduce((sum, line) => sum + Number(/│\S*\s+(\d+)\s+[\d.]+%$/.exec(line)?.[1] ?? Number.NaN), 0)
    expect(counted).toBe(2000)
  })

  it('prints JSON with --json, with batches and a fixed rate, every message counted once', async () => {
    const { code, stdout } = await anymq(
      'bench',
      'memory://cli-bench-json',
      '--messages',
      '3000',
      '--size',
      '100B',
      '--batch',
      '50',
      '--concurrency',
      '1',
      '--json',
    )
    expect(code).toBe(0)
    const result = JSON.parse(stdout)
    expect(result).toMatchObject({ adapter: 'memory', messages: 3000, published: 3000, consumed: 3000, missing: 0, duplicates: 0, timedOut: false, bytes: 100 })
    expect(result.latency.count).toBe(3000)
    expect(result.latency.p50).toBeLessThanOrEqual(result.latency.p99)
    const paced = JSON.parse((await anymq('bench', 'memory://cli-bench-rate', '--messages', '200', '--rate', '2000', '--json')).stdout)
    expect(paced).toMatchObject({ published: 200, consumed: 200, missing: 0, rate: 2000 })
  })

  it('skips leftovers of another run on the same queue and still counts its own', async () => {
    await anymq('send', 'memory://cli-bench-stale', 'anymq.bench', '{"run":"someone-else","seq":0,"sentAt":0,"pad":""}')
    const { code, stdout } = await anymq('bench', 'memory://cli-bench-stale', '--messages', '500', '--json')
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ consumed: 500, stale: 1, missing: 0 })
  })

  it('rejects bad options with exit code 2 and the usage', async () => {
    const { code, stderr } = await anymq('bench', 'memory://', '--size', 'huge')
    expect(code).toBe(2)
    expect(stderr).toContain('--size takes a size')
    expect(stderr).toContain('usage: anymq')
    expect((await anymq('bench')).code).toBe(2)
    expect((await anymq('frobnicate')).code).toBe(2)
  })

  it('says which adapter package to install for a scheme it cannot load, without the password', async () => {
    const { code, stderr } = await anymq('doctor', 'mqtt://user:s3cret-pass@127.0.0.1:1883')
    expect(code).toBe(1)
    expect(stderr).toContain("unknown scheme 'mqtt:'")
    expect(stderr).not.toContain('s3cret-pass')
  })

  it('runs as a program: the bin entry prints the result and exits 0', async () => {
    const root = join(import.meta.dirname, '..', '..', '..')
    const { stdout } = await run(
      join(root, 'node_modules', '.bin', 'tsx'),
      ['--conditions=@anymq/source', join(import.meta.dirname, '..', 'src', 'anymq.ts'), 'bench', 'memory://', '--messages', '1000'],
      {
        cwd: root,
        timeout: 60_000,
      },
    )
    expect(stdout).toMatch(/^counts {4}in 1000 {2}out 1000 {2}missing 0/m)
  })
})

describe('anymq send, consume, dlq, doctor', () => {
  it('sends and consumes on one memory broker, and doctor lists the capabilities', async () => {
    const url = 'memory://cli-commands'
    const sent = await anymq('send', url, 'orders', '{"sku":"A-1","quantity":2}', '--key', 'customer-7', '--header', 'tenant=acme', '--count', '2')
    expect(sent.code).toBe(0)
    expect(sent.stdout.trim().split('\n')).toHaveLength(2)
    const consumed = await anymq('consume', url, 'orders', '--count', '2', '--timeout', '5')
    expect(consumed.code).toBe(0)
    const messages = consumed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(messages).toHaveLength(2)
    expect(messages[0]).toMatchObject({ key: 'customer-7', attempt: 1, headers: { tenant: 'acme' }, body: { sku: 'A-1', quantity: 2 } })
    const doctor = await anymq('doctor', url)
    expect(doctor.code).toBe(0)
    expect(doctor.stdout).toMatch(/^connected to memory:\/\/cli-commands with the memory adapter/m)
    expect(doctor.stdout).toMatch(/^ {2}maxMessageBytes +1 MiB$/m)
  })

  it('peeks at an empty dead-letter queue, says it is empty, and redrives nothing', async () => {
    const peek = await anymq('dlq', 'peek', 'memory://cli-dlq', 'payments')
    expect(peek).toMatchObject({ code: 0, stdout: '' })
    expect(peek.stderr).toMatch(/^no dead letters in payments\.dlq$/m)
    const redrive = await anymq('dlq', 'redrive', 'memory://cli-dlq', 'payments')
    expect(redrive.stdout).toContain('moved 0 dead letters from payments.dlq back to payments')
  })
})

describe('anymq on memory://', () => {
  it('says up front, for send, consume and dlq, that the broker lives in this process only', async () => {
    const sent = await anymq('send', 'memory://cli-note', 'orders', '{"n":1}')
    expect(sent.code).toBe(0)
    expect(sent.stderr).toMatch(
      /^note: memory:\/\/cli-note is an in-process broker, not shared between processes: what this command sends is gone when it exits/m,
    )
    const peek = await anymq('dlq', 'peek', 'memory://cli-note', 'orders')
    expect(peek.stderr).toMatch(/^note: memory:\/\/cli-note is an in-process broker, not shared between processes: its dead-letter queues/m)
  })

  it('explains an empty consume on memory:// instead of only timing out', async () => {
    const consumed = await anymq('consume', 'memory://cli-note-empty', 'orders', '--timeout', '1')
    expect(consumed.code).toBe(1)
    expect(consumed.stderr).toMatch(
      /^note: memory:\/\/cli-note-empty is an in-process broker, not shared between processes: only messages sent inside this same process/m,
    )
    expect(consumed.stderr).toMatch(
      /^received 0 of 1 messages before 1 s passed without one \(memory:\/\/cli-note-empty is in-process: nothing sent by another process reaches it\)$/m,
    )
  })
})

describe('anymq --version', () => {
  it("prints the version of @anymq/cli's package.json", async () => {
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string }
    for (const flag of ['--version', '-v', 'version']) expect(await anymq(flag)).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' })
  })
})

describe('bench helpers', () => {
  it('parses sizes and counts as the options accept them', () => {
    expect([parseBytes('100B'), parseBytes('1KB'), parseBytes('64k'), parseBytes('1MB'), parseBytes('big')]).toEqual([100, 1024, 65_536, 1_048_576, undefined])
    expect([parseCount('2000'), parseCount('10k'), parseCount('1M'), parseCount('1_000'), parseCount('x')]).toEqual([2000, 10_000, 1_000_000, 1000, undefined])
  })

  it('answers percentiles exactly and puts every sample in one histogram bucket', () => {
    const recorder = new LatencyRecorder()
    for (let value = 1; value <= 1000; value++) recorder.record(value / 10)
    expect(recorder.percentile(50)).toBe(50)
    expect(recorder.percentile(99)).toBe(99)
    expect(recorder.max).toBe(100)
    expect(recorder.buckets().reduce((sum, bucket) => sum + bucket.count, 0)).toBe(1000)
  })
})
