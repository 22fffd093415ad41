import { join } from 'node:path'
import { brokerUrl, describeConformance, describeConnectionRefusals, useBadCertificateFronts } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'
import { drivers, withDriver } from './drivers.js'

// rediss:// as an ACL user with a password, from scripts/brokers.sh (the CA is in the URL's ?ca=).
const url = brokerUrl('ANYMQ_REDIS_TLS_URL')
const plainUrl = brokerUrl('ANYMQ_REDIS_URL')

describe.skipIf(!url || !plainUrl).each(drivers)('redis over TLS, %s driver (ANYMQ_REDIS_TLS_URL unset: run scripts/brokers.sh up redis)', (driver) => {
  // The body runs to collect tests even when the suite is skipped: no URL must not throw here.
  const tlsUrl = new URL(withDriver(url ?? 'unset://tls', driver))
  const certificates = process.env.ANYMQ_TLS_DIR ?? tlsUrl.searchParams.get('ca')?.replace(/\/ca\.pem$/, '') ?? ''
  const file = (name: string) => join(certificates, name)
  const withUrl = (change: (url: URL) => void) => {
    const copy = new URL(tlsUrl)
    change(copy)
    return connect(copy.toString(), { adapter })
  }

  describeConformance({
    name: `redis (rediss, ACL user with a password, ${driver})`,
    capabilities,
    connect: () => connect(tlsUrl.toString(), { adapter }),
    groups: ['round-trip', 'queue', 'retry', 'request-reply'],
  })

  // Mutual TLS: Redis checks a client certificate when one is sent (tls-auth-clients optional).
  describeConformance({
    name: `redis (rediss with a client certificate, ${driver})`,
    capabilities,
    connect: () => connect(tlsUrl.toString(), { adapter, broker: { tls: { cert: file('client.pem'), key: file('client.key') } } }),
    groups: ['round-trip'],
  })

  // Certificates the broker itself cannot be made to present (expired, another host's) are
  // presented by a TLS front on a port of its own that forwards to the broker's plain port.
  const plain = new URL(plainUrl ?? 'unset://plain')
  const fronts = useBadCertificateFronts(certificates, { host: plain.hostname, port: Number(plain.port) })

  describeConnectionRefusals({
    name: `redis (rediss, ${driver})`,
    secret: decodeURIComponent(tlsUrl.password),
    cases: {
      'tls-untrusted-certificate': () => withUrl((copy) => copy.searchParams.set('ca', file('other-ca.pem'))),
      'tls-certificate-expired': () => withUrl((copy) => (copy.port = String(fronts.expiredPort()))),
      'tls-hostname-mismatch': () => withUrl((copy) => (copy.port = String(fronts.wrongHostPort()))),
      // No 'tls-handshake' case: Redis' plain port never answers a TLS ClientHello (it waits for a
      // line), so the client can only time out, as with a broker that does not answer at all.
      authentication: () => withUrl((copy) => (copy.password = 'not-the-password')),
      // Authenticated, but its ACL allows no key: refused at the first send.
      'permission-denied': () => withUrl((copy) => (copy.username = 'anymq-noperm')),
    },
  })
})
