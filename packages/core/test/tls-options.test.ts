import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConnectionError } from '@anymq/core'
import { type ConfigProblem, readTlsOptions, tlsFailureOf } from '@anymq/core/spi'
import { describe, expect, it } from 'vitest'

const folder = mkdtempSync(join(tmpdir(), 'anymq-tls-'))
const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
const caFile = join(folder, 'ca.pem')
writeFileSync(caFile, pem)
const notPem = join(folder, 'not.pem')
writeFileSync(notPem, 'hello')

function read(fromUrl: Record<string, unknown>, option: unknown) {
  const problems: ConfigProblem[] = []
  const tls = readTlsOptions(fromUrl, option, 'broker.tls', problems)
  return { tls, problems }
}

describe('readTlsOptions', () => {
  it('gives nothing when no TLS setting is given, whatever else the URL has', () => {
    expect(read({ heartbeat: 10 }, undefined)).toEqual({ tls: undefined, problems: [] })
  })

  it('reads a CA file named in the URL and keeps PEM text as it is', () => {
    expect(read({ ca: caFile }, undefined).tls).toEqual({ ca: pem })
    expect(read({}, { ca: pem, rejectUnauthorized: false }).tls).toEqual({ ca: pem, rejectUnauthorized: false })
    expect(read({}, { ca: [caFile, Buffer.from(pem)] }).tls?.ca).toEqual([pem, Buffer.from(pem)])
  })

  it('lets the options object win over the URL', () => {
    expect(read({ ca: notPem, servername: 'a' }, { ca: caFile }).tls).toEqual({ ca: pem, servername: 'a' })
  })

  it('reports every problem at once, naming the field and never the file contents', () => {
    const { problems } = read({ ca: join(folder, 'missing.pem') }, { cert: notPem, rejectUnauthorized: 'no', servername: 5 })
    expect(problems.map((problem) => problem.field).sort()).toEqual([
      'broker.tls.cert',
      'broker.tls.key',
      'broker.tls.rejectUnauthorized',
      'broker.tls.servername',
      'url ?ca',
    ])
    expect(problems.find((problem) => problem.field === 'url ?ca')?.message).toMatch(/cannot read the file .*ENOENT/)
    expect(problems.find((problem) => problem.field === 'broker.tls.cert')?.message).toMatch(/not PEM/)
    expect(JSON.stringify(problems)).not.toContain('hello')
  })

  it('refuses what is not an options object', () => {
    for (const option of [null, 'ca.pem', 42, [caFile]]) expect(read({}, option).problems.map((problem) => problem.field)).toEqual(['broker.tls'])
  })
})

describe('tlsFailureOf', () => {
  const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code })

  it('names the TLS verdict anywhere in the cause chain or an aggregate', () => {
    expect(tlsFailureOf(coded('SELF_SIGNED_CERT_IN_CHAIN'))).toBe('tls-untrusted-certificate')
    expect(tlsFailureOf(new Error('outer', { cause: coded('CERT_HAS_EXPIRED') }))).toBe('tls-certificate-expired')
    expect(tlsFailureOf(new AggregateError([new Error('a'), coded('ERR_TLS_CERT_ALTNAME_INVALID')]))).toBe('tls-hostname-mismatch')
    expect(tlsFailureOf(coded('ERR_SSL_WRONG_VERSION_NUMBER'))).toBe('tls-handshake')
    // what an https agent's socket write reports for TLS to a plain HTTP port
    expect(tlsFailureOf(coded('EPROTO', 'write EPROTO 40CD:error:0A00010B:SSL routines:tls_validate_record_header:wrong version number'))).toBe('tls-handshake')
    expect(tlsFailureOf(new Error('Client network socket disconnected before secure TLS connection was established'))).toBe('tls-handshake')
  })

  it('says nothing of errors that are not TLS verdicts', () => {
    expect(tlsFailureOf(coded('ECONNREFUSED'))).toBeUndefined()
    expect(tlsFailureOf(coded('EPROTO', 'write EPROTO: protocol error'))).toBeUndefined()
    expect(tlsFailureOf('CERT_HAS_EXPIRED')).toBeUndefined()
  })

  it('makes a refusal a ConnectionError that is not retryable; an outage stays retryable', () => {
    expect(new ConnectionError('x', { reason: 'authentication' }).isRetryable).toBe(false)
    expect(new ConnectionError('x').isRetryable).toBe(true)
  })
})
