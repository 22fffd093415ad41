import { join } from 'node:path'
import { brokerUrl, describeConformance, describeConnectionRefusals, useBadCertificateFronts } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'

// SQS + SNS over HTTPS: the second moto of scripts/brokers.sh, with the server certificate of its
// CA (the CA file is in the URL's ?ca=).
const url = brokerUrl('ANYMQ_SQS_TLS_URL')
const plainUrl = brokerUrl('ANYMQ_SQS_URL')

describe.skipIf(!url || !plainUrl)(`aws over HTTPS${!url || !plainUrl ? ' (ANYMQ_SQS_TLS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  // The body runs to collect tests even when the suite is skipped: no URL must not throw here.
  const tlsUrl = new URL(url ?? 'unset://tls')
  const certificates = process.env.ANYMQ_TLS_DIR ?? tlsUrl.searchParams.get('ca')?.replace(/\/ca\.pem$/, '') ?? ''
  const file = (name: string) => join(certificates, name)
  // A secret no error may show (moto accepts any): not "test", which every stack trace's paths contain.
  const credentials = { accessKeyId: 'anymq-tls-key', secretAccessKey: 'anymq-tls-Secret-9f3k' }
  const endpoint = new URL(tlsUrl.searchParams.get('endpoint') ?? 'https://unset')
  const withEndpoint = (change: (endpoint: URL, url: URL) => void) => {
    const copy = new URL(tlsUrl)
    const target = new URL(endpoint)
    change(target, copy)
    copy.searchParams.set('endpoint', target.origin)
    return connect(copy.toString(), { adapter, broker: { credentials } })
  }

  describeConformance({
    name: 'aws (https endpoint, private CA)',
    capabilities,
    connect: () => connect(`${tlsUrl}&waitTimeSeconds=2`, { adapter }),
    timeScale: 2,
    groups: ['round-trip'],
  })

  const plainEndpoint = new URL(new URL(plainUrl ?? 'unset://plain').searchParams.get('endpoint') ?? 'http://127.0.0.1:1')
  const fronts = useBadCertificateFronts(certificates, { host: plainEndpoint.hostname, port: Number(plainEndpoint.port) })

  describeConnectionRefusals({
    name: 'aws (https)',
    secret: credentials.secretAccessKey,
    cases: {
      'tls-untrusted-certificate': () => withEndpoint((_, copy) => copy.searchParams.set('ca', file('other-ca.pem'))),
      'tls-certificate-expired': () => withEndpoint((target) => (target.port = String(fronts.expiredPort()))),
      'tls-hostname-mismatch': () => withEndpoint((target) => (target.port = String(fronts.wrongHostPort()))),
      // https:// to moto's plain HTTP port: the answer to the ClientHello is not TLS.
      'tls-handshake': () => withEndpoint((target) => (target.port = plainEndpoint.port)),
      // No 'authentication' or 'permission-denied' case: moto accepts any signature and any key.
    },
  })
})
