import { join } from 'node:path'
import { brokerUrl, describeConformance, describeConnectionRefusals, useBadCertificateFronts } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'

// SASL_SSL with SCRAM-SHA-512, from scripts/brokers.sh (mechanism and CA in the URL's query).
const url = brokerUrl('ANYMQ_KAFKA_TLS_URL')
const plainUrl = brokerUrl('ANYMQ_KAFKA_URL')

describe.skipIf(!url || !plainUrl)(`kafka over TLS${!url || !plainUrl ? ' (ANYMQ_KAFKA_TLS_URL unset: run scripts/brokers.sh up kafka)' : ''}`, () => {
  // The body runs to collect tests even when the suite is skipped: no URL must not throw here.
  const tlsUrl = new URL(url ?? 'unset://tls')
  const certificates = process.env.ANYMQ_TLS_DIR ?? tlsUrl.searchParams.get('ca')?.replace(/\/ca\.pem$/, '') ?? ''
  const file = (name: string) => join(certificates, name)
  const withUrl = (change: (url: URL) => void) => {
    const copy = new URL(tlsUrl)
    change(copy)
    return connect(copy.toString(), { adapter })
  }

  describeConformance({
    name: 'kafka (SASL_SSL, SCRAM-SHA-512)',
    capabilities,
    connect: () => connect(tlsUrl.toString(), { adapter }),
    groups: ['round-trip', 'queue', 'retry', 'request-reply'],
    // Group joins on a loaded CI machine, as in the plain suite.
    timeScale: 2,
  })

  // Mutual TLS beside SASL: the broker checks a client certificate when one is sent (ssl.client.auth=requested).
  describeConformance({
    name: 'kafka (SASL_SSL with a client certificate)',
    capabilities,
    connect: () => connect(tlsUrl.toString(), { adapter, broker: { ssl: { cert: file('client.pem'), key: file('client.key') } } }),
    groups: ['round-trip'],
  })

  // Certificates the broker itself cannot be made to present (expired, another host's) are
  // presented by a TLS front on a port of its own that forwards to the broker's plain port.
  const plain = new URL(plainUrl ?? 'unset://plain')
  const fronts = useBadCertificateFronts(certificates, { host: plain.hostname, port: Number(plain.port) })

  describeConnectionRefusals({
    name: 'kafka (SASL_SSL)',
    secret: decodeURIComponent(tlsUrl.password),
    cases: {
      'tls-untrusted-certificate': () => withUrl((copy) => copy.searchParams.set('ca', file('other-ca.pem'))),
      'tls-certificate-expired': () => withUrl((copy) => (copy.port = String(fronts.expiredPort()))),
      'tls-hostname-mismatch': () => withUrl((copy) => (copy.port = String(fronts.wrongHostPort()))),
      // TLS spoken to the plain Kafka port.
      'tls-handshake': () => withUrl((copy) => (copy.port = plain.port)),
      authentication: () => withUrl((copy) => (copy.password = 'not-the-password')),
      // A SCRAM user without ACLs (the TLS user is a super user).
      'permission-denied': () => withUrl((copy) => (copy.username = 'anymq-noperm')),
    },
  })
})
