import '@anymq/memory'
import { describe, expect, it } from 'vitest'
import { anymq } from './run-cli.js'

// A name on the command line is taken whole: a part the CLI does not understand is refused, never
// dropped so that the command quietly acts on another queue or subscription than the one named.
describe('queue and subscription names on the command line', () => {
  it('anymq stats refuses topic/a/b instead of showing topic/a', async () => {
    const { code, stdout, stderr } = await anymq('stats', 'memory://cli-names', 'events/audit/extra')
    expect(code).toBe(1)
    expect(stdout).not.toContain('events/audit')
    expect(stderr).toContain("subscription.name: 'audit/extra' is not a valid name")
  })

  it('anymq bridge refuses a route target with a second =, instead of forwarding to what comes before it', async () => {
    const queue = await anymq('bridge', 'memory://cli-names-a', 'memory://cli-names-b', '--queue', 'orders=archive=old', '--idle', '0.1')
    expect(queue.code).toBe(1)
    expect(queue.stdout).not.toContain('queue archive')
    expect(queue.stderr).toContain("queue.name: 'archive=old' is not a valid name")

    const subscription = await anymq('bridge', 'memory://cli-names-a', 'memory://cli-names-b', '--subscription', 'events/audit=copy=old', '--idle', '0.1')
    expect(subscription.code).toBe(1)
    expect(subscription.stderr).toContain("topic.name: 'copy=old' is not a valid name")
  })
})
