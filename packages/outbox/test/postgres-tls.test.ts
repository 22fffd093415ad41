import { join } from 'node:path'
import { brokerUrl } from '@anymq/conformance'
import { connect, type Message } from '@anymq/core'
import { adapter as memoryAdapter } from '@anymq/memory'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { postgresFixture, uniqueName, waitUntil } from './fixtures.js'

// PostgreSQL with sslmode=verify-full (CA in sslrootcert, host name checked), from scripts/brokers.sh.
const tlsUrl = brokerUrl('ANYMQ_POSTGRES_TLS_URL')

describe.skipIf(!tlsUrl)(`outbox on PostgreSQL over TLS${!tlsUrl ? ' (ANYMQ_POSTGRES_TLS_URL unset: run scripts/brokers.sh up postgres)' : ''}`, () => {
  it('relays a committed row over a connection that really is TLS', async () => {
    const fixture = await postgresFixture(tlsUrl)
    const mq = await connect(`memory://${uniqueName('broker')}`, { adapter: memoryAdapter })
    try {
      const [state] = await fixture.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
      expect(state?.ssl).toBe(true)
      const queue = uniqueName('tls')
      const seen: Message<{ n: number }>[] = []
      mq.queue<{ n: number }>(queue).consume((message) => {
        seen.push(message)
      })
      await fixture.commit((tx) => fixture.outbox.add(tx, queue, { n: 1 }))
      const relay = fixture.relayOutbox().startRelay({ mq })
      try {
        await waitUntil(() => seen.length === 1, 20_000, 'the relayed message')
      } finally {
        await relay.stop()
      }
      expect(seen[0]?.body).toEqual({ n: 1 })
    } finally {
      await mq.close()
      await fixture.close()
    }
  })

  it('refuses a server certificate that another CA signed', async () => {
    const wrong = new URL(tlsUrl as string)
    const ca = wrong.searchParams.get('sslrootcert') as string
    wrong.searchParams.set('sslrootcert', join(ca, '..', 'other-ca.pem'))
    const pool = new pg.Pool({ connectionString: wrong.toString() })
    pool.on('error', () => {})
    try {
      await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' })
    } finally {
      await pool.end()
    }
  })
})
