import type { ConnectionFailure } from '../errors.js'

// Node's (OpenSSL's) verification codes, grouped by what the user has to fix.
const untrusted = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
])
const expired = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'])

/**
 * What went wrong in a TLS handshake, read from a Node TLS error anywhere in `error`'s cause chain;
 * `undefined` when it is not a TLS error (a refused TCP connection, a reset after the handshake…).
 */
export function tlsFailureOf(error: unknown): ConnectionFailure | undefined {
  for (const current of errorsIn(error)) {
    const code = (current as { code?: unknown }).code
    // The peer hung up in the middle of the handshake: a plain port that closes on a ClientHello.
    if (/disconnected before secure TLS connection was established/.test(current.message)) return 'tls-handshake'
    if (typeof code !== 'string') continue
    if (untrusted.has(code)) return 'tls-untrusted-certificate'
    if (expired.has(code)) return 'tls-certificate-expired'
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'tls-hostname-mismatch'
    // ERR_SSL_WRONG_VERSION_NUMBER (TLS to a plain port), ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED…
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'tls-handshake'
    // The same from a socket write (https through an agent): EPROTO, and OpenSSL's reason in the message.
    if (code === 'EPROTO' && /SSL routines/.test(current.message)) return 'tls-handshake'
  }
  return undefined
}

/**
 * An error, its causes, and the members of aggregate errors (`errors`, as AggregateError and some
 * clients have), depth first and bounded: what a client wrapped around the error that matters.
 */
export function errorsIn(error: unknown, limit = 32): Error[] {
  const found: Error[] = []
  const visit = (value: unknown, depth: number) => {
    if (!(value instanceof Error) || depth > 8 || found.length >= limit || found.includes(value)) return
    found.push(value)
    const members = (value as { errors?: unknown }).errors
    if (Array.isArray(members)) for (const member of members) visit(member, depth + 1)
    visit(value.cause, depth + 1)
  }
  visit(error, 0)
  return found
}

const explanations: Record<ConnectionFailure, string> = {
  'tls-untrusted-certificate': "TLS: the server's certificate is not signed by a trusted CA; give the CA that signed it as `ca`",
  'tls-certificate-expired': "TLS: the server's certificate has expired or is not yet valid; renew it on the broker",
  'tls-hostname-mismatch': "TLS: the server's certificate does not name the host connected to; connect by a name it lists, or set `servername`",
  'tls-handshake': 'TLS handshake failed (a plain port, a protocol mismatch, or a client certificate the server refused)',
  authentication: 'authentication failed: the broker refused the user name or password',
  'permission-denied': 'permission denied: the user is authenticated but not allowed to do this',
}

/** One sentence saying what a {@link ConnectionFailure} means and what to check. */
export function explainConnectionFailure(reason: ConnectionFailure): string {
  return explanations[reason]
}
