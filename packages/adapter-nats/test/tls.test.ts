import { join } from 'node:path'
import { brokerUrl, describeConformance, describeConnectionRefusals } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'
import { useNatsTlsFront } from './nats-tls-front.js'

// A nats-server with TLS and users with passwords, and one with a token, from scripts/brokers.sh
// (the CA is in the URL's ?ca=).
const url = brokerUrl('ANYMQ_NATS_TLS_URL')
const tokenUrl = brokerUrl('ANYMQ_NATS_TOKEN_URL')
const plainUrl = brokerUrl('ANYMQ_NATS_URL')
// The queue and retry groups over TLS add ~30 s: in `pnpm test:nats-tls` (ANYMQ_NATS_TLS_FULL=1) only.
const full = process.env.ANYMQ_NATS_TLS_FULL === '1'

describe.skipIf(!url || !plainUrl)(`nats over TLS${!url || !plainUrl ? ' (ANYMQ_NATS_TLS_URL unset: run scripts/brokers.sh up nats)' : ''}`, () => {
  // The body runs to collect tests even when the suite is skipped: no URL must not throw here.
  const tlsUrl = new URL(url ?? 'unset://tls')
  const plain = new URL(plainUrl ?? 'unset://plain')
  const certificates = process.env.ANYMQ_TLS_DIR ?? tlsUrl.searchParams.get('ca')?.replace(/\/ca\.pem$/, '') ?? ''
  const file = (name: string) => join(certificates, name)
  const withUrl = (change: (url: URL) => void, broker: Record<string, unknown> = {}) => {
    const copy = new URL(tlsUrl)
    change(copy)
    return connect(copy.toString(), { adapter, broker: { ...broker } })
  }

  describeConformance({
    name: 'nats (TLS, user with a password)',
    capabilities,
    connect: () => connect(tlsUrl.toString(), { adapter }),
    groups: full ? ['round-trip', 'queue', 'retry', 'request-reply'] : ['round-trip', 'request-reply'],
  })

  // The user and password as options, the CA as PEM text through `broker.tls`: the URL holds neither.
  describeConformance({
    name: 'nats (TLS, credentials and CA as options)',
    capabilities,
    connect: () =>
      withUrl(
        (copy) => {
          copy.username = ''
          copy.password = ''
          copy.searchParams.delete('ca')
        },
        { user: decodeURIComponent(tlsUrl.username), pass: decodeURIComponent(tlsUrl.password), tls: { ca: file('ca.pem') } },
      ),
    groups: ['round-trip'],
  })

  // The README's form: the user in the URL, the password as an option.
  describeConformance({
    name: 'nats (TLS, user in the URL and password as an option)',
    capabilities,
    connect: () => withUrl((copy) => (copy.password = ''), { pass: decodeURIComponent(tlsUrl.password) }),
    groups: ['round-trip'],
  })

  // A nats-server cannot be made to present an expired certificate beside its good one: a front
  // that greets as one does.
  const expiredFront = useNatsTlsFront(certificates, 'expired')

  describeConnectionRefusals({
    name: 'nats (TLS)',
    secret: decodeURIComponent(tlsUrl.password),
    cases: {
      'tls-untrusted-certificate': () => withUrl((copy) => copy.searchParams.set('ca', file('other-ca.pem'))),
      'tls-certificate-expired': () =>
        withUrl((copy) => {
          copy.hostname = '127.0.0.1'
          copy.port = String(expiredFront.port())
        }),
      // The certificate names localhost and 127.0.0.1, not the name the client asks for.
      'tls-hostname-mismatch': () => withUrl((copy) => copy.searchParams.set('servername', 'elsewhere.invalid')),
      // TLS required of the plain server, which offers none.
      'tls-handshake': () => withUrl((copy) => (copy.port = plain.port)),
      authentication: () => withUrl((copy) => (copy.password = 'not-the-password')),
      'permission-denied': () => withUrl((copy) => (copy.username = 'anymq-noperm')),
    },
  })
})

describe.skipIf(!tokenUrl)(`nats with a token${!tokenUrl ? ' (ANYMQ_NATS_TOKEN_URL unset: run scripts/brokers.sh up nats)' : ''}`, () => {
  const token = new URL(tokenUrl ?? 'unset://token')
  describeConformance({
    name: 'nats (token in the URL)',
    capabilities,
    connect: () => connect(token.toString(), { adapter }),
    groups: ['round-trip'],
  })

  describeConformance({
    name: 'nats (token as an option)',
    capabilities,
    connect: () => connect(`nats://${token.host}`, { adapter, broker: { token: decodeURIComponent(token.username) } }),
    groups: ['round-trip'],
  })

  describeConnectionRefusals({
    name: 'nats (token)',
    secret: decodeURIComponent(token.username),
    cases: {
      authentication: () => connect(`nats://not-the-token@${token.host}`, { adapter }),
    },
  })
})
