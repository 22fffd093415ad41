import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brokerUrl } from '@anymq/conformance'
import { describe, expect, it } from 'vitest'
import { anymq } from './run-cli.js'

// One group keeps this inside the CI budget; `anymq conformance <url>` without --groups runs them all.
const groups = 'admin'

describe('anymq conformance', () => {
  it('passes on memory://, prints the capability report and a table per group, and writes JUnit XML', async () => {
    const junit = join(mkdtempSync(join(tmpdir(), 'anymq-conformance-')), 'report.xml')
    const { code, stdout } = await anymq('conformance', 'memory://cli-conformance', '--groups', groups, '--junit', junit)
    expect(stdout).toMatch(/^ {2}admin +all$/m)
    expect(stdout).toMatch(/^admin +\d+ +0 +0$/m)
    expect(stdout).toMatch(/^conformance: PASS \(\d+ cases\)$/m)
    expect(code).toBe(0)
    const xml = readFileSync(junit, 'utf8')
    expect(xml).toMatch(/<testsuites name="vitest tests" tests="\d+" failures="0"/)
  })

  it('refuses an unknown group and the recovery group without a restart command', async () => {
    expect((await anymq('conformance', 'memory://', '--groups', 'nope')).code).toBe(2)
    const recovery = await anymq('conformance', 'memory://', '--groups', 'recovery')
    expect(recovery.code).toBe(2)
    expect(recovery.stderr).toContain('--groups recovery needs --restart-command')
  })

  const rabbitmq = brokerUrl('ANYMQ_RABBITMQ_URL')
  // Made by scripts/brokers.sh with its TLS users; absent when it runs with ANYMQ_TLS=0.
  const noConfigure = process.env.ANYMQ_RABBITMQ_NOCONFIGURE_URL
  it.runIf(rabbitmq !== undefined)('passes on a real RabbitMQ', async () => {
    const { code, stdout } = await anymq('conformance', rabbitmq as string, '--groups', groups)
    expect(stdout).toMatch(/^conformance: PASS \(\d+ cases\)$/m)
    expect(code).toBe(0)
  })

  it.runIf(noConfigure !== undefined)('fails, naming the refused declaration, for a RabbitMQ user without configure permission', async () => {
    const { code, stdout } = await anymq('conformance', noConfigure as string, '--groups', 'round-trip')
    expect(code).toBe(1)
    expect(stdout).toMatch(/^round trip +\d+ +[1-9]\d* +\d+$/m)
    expect(stdout).toMatch(/ACCESS_REFUSED|access to queue/i)
    expect(stdout).toMatch(/^conformance: FAIL/m)
    expect(stdout).not.toContain('anymq-tls-Pa55word')
  })
})
