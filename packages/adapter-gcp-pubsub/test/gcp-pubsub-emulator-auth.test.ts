import { brokerUrl, uniqueName } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

// gax asked Application Default Credentials for a universe domain while making its first stub, even on
// an emulator where it uses none: that probes the GCE metadata server, an address off the machine, and
// prints a MetadataLookupWarning wherever that server is absent (every laptop and CI box).
describe.skipIf(!url)(`gcp-pubsub on an emulator${!url ? ' (ANYMQ_PUBSUB_URL unset: run scripts/brokers.sh up pubsub)' : ''}`, () => {
  it('connects, sends, consumes and closes without looking for Google credentials', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`)
    process.on('warning', onWarning)
    try {
      const mq = await connect(url as string, { adapter })
      try {
        const queue = mq.queue<string>(uniqueName('no-adc'))
        const got = new Promise<string>((resolve) => queue.consume((message) => resolve(message.body)))
        await queue.send('hello')
        expect(await got).toBe('hello')
      } finally {
        await mq.close()
      }
      // A warning is emitted on the next tick after the failed probe.
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings.filter((warning) => /Metadata/.test(warning))).toEqual([])
  })
})
