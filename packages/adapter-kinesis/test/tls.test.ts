import { join } from 'node:path'
import { brokerUrl, Collector, describeConnectionRefusals, uniqueName, useBadCertificateFronts } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

// Kinesis and DynamoDB over HTTPS: the second moto of scripts/brokers.sh (the one ANYMQ_SQS_TLS_URL
// names serves every AWS service moto mocks), with the server certificate of its CA.
const sqsTlsUrl = brokerUrl('ANYMQ_SQS_TLS_URL')
const plainUrl = brokerUrl('ANYMQ_KINESIS_URL')

describe.skipIf(!sqsTlsUrl || !plainUrl)(
  `kinesis over HTTPS${!sqsTlsUrl || !plainUrl ? ' (ANYMQ_SQS_TLS_URL unset: run scripts/brokers.sh up sqs)' : ''}`,
  () => {
    // The body runs to collect tests even when the suite is skipped: no URL must not throw here.
    const sqsTls = new URL(sqsTlsUrl ?? 'unset://tls')
    const endpoint = new URL(sqsTls.searchParams.get('endpoint') ?? 'https://unset')
    const certificates = process.env.ANYMQ_TLS_DIR ?? sqsTls.searchParams.get('ca')?.replace(/\/ca\.pem$/, '') ?? ''
    const file = (name: string) => join(certificates, name)
    // A secret no error may show (moto accepts any): not "test", which every stack trace's paths contain.
    const credentials = { accessKeyId: 'anymq-tls-key', secretAccessKey: 'anymq-tls-Kinesis-Secret-7c2q' }
    const tlsUrl = (change: (endpoint: URL, url: URL) => void = () => {}) => {
      const url = new URL(`kinesis://us-east-1?pollMs=100&ca=${file('ca.pem')}`)
      const target = new URL(endpoint)
      change(target, url)
      url.searchParams.set('endpoint', target.origin)
      return url.toString()
    }

    it('round-trips a message over https:// with the private CA given as ?ca=, and with PEM text as broker.tls', async () => {
      for (const open of [
        () => connect(tlsUrl(), { adapter, broker: { credentials } }),
        () =>
          connect(
            tlsUrl((_, url) => url.searchParams.delete('ca')),
            { adapter, broker: { credentials, tls: { ca: file('ca.pem') } } },
          ),
      ]) {
        const mq = await open()
        try {
          const seen = new Collector<string>()
          const queue = mq.queue<string>(uniqueName('tls'))
          await queue.consume(seen.handler).ready
          await queue.send('over https', { key: 'k-1' })
          await seen.waitForCount(1, 20_000)
          expect(seen.bodies).toEqual(['over https'])
        } finally {
          await mq.close()
        }
      }
    })

    it('refuses TLS settings with a plain http:// endpoint, and a ca file that does not exist, before connecting', async () => {
      const errors = await Promise.all([
        connect(`${plainUrl}&ca=${file('ca.pem')}`, { adapter }).catch((error: unknown) => error),
        connect(
          tlsUrl((_, url) => url.searchParams.set('ca', '/nonexistent/ca.pem')),
          { adapter },
        ).catch((error: unknown) => error),
      ])
      expect(errors.map((error) => (error as { code?: string }).code)).toEqual(['ERR_CONFIG', 'ERR_CONFIG'])
      expect(String(errors[0])).toContain('broker.tls')
      expect(String(errors[1])).toContain('url ?ca')
    })

    const plainEndpoint = new URL(new URL(plainUrl ?? 'unset://plain').searchParams.get('endpoint') ?? 'http://127.0.0.1:1')
    const fronts = useBadCertificateFronts(certificates, { host: plainEndpoint.hostname, port: Number(plainEndpoint.port) })

    describeConnectionRefusals({
      name: 'kinesis (https)',
      secret: credentials.secretAccessKey,
      cases: {
        'tls-untrusted-certificate': () =>
          connect(
            tlsUrl((_, url) => url.searchParams.set('ca', file('other-ca.pem'))),
            { adapter, broker: { credentials } },
          ),
        'tls-certificate-expired': () =>
          connect(
            tlsUrl((target) => (target.port = String(fronts.expiredPort()))),
            { adapter, broker: { credentials } },
          ),
        'tls-hostname-mismatch': () =>
          connect(
            tlsUrl((target) => (target.port = String(fronts.wrongHostPort()))),
            { adapter, broker: { credentials } },
          ),
        // https:// to moto's plain HTTP port: the answer to the ClientHello is not TLS.
        'tls-handshake': () =>
          connect(
            tlsUrl((target) => (target.port = plainEndpoint.port)),
            { adapter, broker: { credentials } },
          ),
        // No 'authentication' or 'permission-denied' case: moto accepts any signature and any key.
      },
    })
  },
)
