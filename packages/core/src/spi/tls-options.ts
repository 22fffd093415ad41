import { readFileSync } from 'node:fs'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { ConfigProblem } from '../errors.js'
import { registerSecret } from '../redact.js'

/**
 * TLS query parameters every adapter accepts on its secure scheme (`amqps://…?ca=/etc/ssl/ca.pem`):
 * the names of Node's `tls.connect` options, so the URL and the `tls` option object read the same.
 */
export const tlsUrlOptions = {
  ca: { type: 'string', description: 'file (PEM) of the CA that signed the server certificate' },
  cert: { type: 'string', description: 'client certificate file (PEM), for mutual TLS' },
  key: { type: 'string', description: 'private key file (PEM) of the client certificate' },
  servername: { type: 'string', description: 'host name the server certificate must name (default: the URL host)' },
  rejectUnauthorized: { type: 'boolean', description: 'verify the server certificate (default true; false is for tests only)' },
} as const

/** What {@link tlsUrlOptions} parse to. */
export interface TlsUrlValues {
  ca?: string
  cert?: string
  key?: string
  servername?: string
  rejectUnauthorized?: boolean
}

const pemFields = ['ca', 'cert', 'key'] as const

/**
 * Reads TLS settings from the URL's parameters and an options object (which wins), and checks them
 * before anything connects: `ca`, `cert` and `key` are PEM text, Buffers, or paths of PEM files (read
 * now, so a wrong path is a `ConfigError`, not a handshake failure later); `cert` and `key` go
 * together; `rejectUnauthorized` is a boolean. The passphrase is registered as a secret. Problems are
 * added to `problems` (field names start with `field`); file contents never appear in them.
 * Returns `undefined` when no TLS setting was given.
 */
export function readTlsOptions(urlValues: TlsUrlValues, option: unknown, field: string, problems: ConfigProblem[]): TlsOptions | undefined {
  // Only the TLS parameters: callers pass everything their URL had.
  const fromUrl = Object.fromEntries(
    Object.keys(tlsUrlOptions).flatMap((name) => {
      const value = urlValues[name as keyof TlsUrlValues]
      return value === undefined ? [] : [[name, value]]
    }),
  )
  if (option === undefined && Object.keys(fromUrl).length === 0) return undefined
  if (option !== undefined && (typeof option !== 'object' || option === null || Array.isArray(option))) {
    problems.push({ field, message: 'expected an object of Node tls.connect options (ca, cert, key, passphrase, servername, rejectUnauthorized…)' })
    return undefined
  }
  const merged: Record<string, unknown> = { ...fromUrl, ...(option as Record<string, unknown> | undefined) }
  for (const name of pemFields) {
    if (merged[name] === undefined) continue
    const where = name in ((option as object | undefined) ?? {}) ? `${field}.${name}` : `url ?${name}`
    merged[name] = readPem(merged[name], where, problems)
  }
  if ((merged.cert === undefined) !== (merged.key === undefined) && merged.pfx === undefined) {
    problems.push({ field: `${field}.${merged.cert === undefined ? 'cert' : 'key'}`, message: 'a client certificate needs both cert and key' })
  }
  if (merged.rejectUnauthorized !== undefined && typeof merged.rejectUnauthorized !== 'boolean') {
    problems.push({ field: `${field}.rejectUnauthorized`, message: 'expected true or false' })
  }
  for (const name of ['servername', 'passphrase'] as const) {
    if (merged[name] !== undefined && typeof merged[name] !== 'string') problems.push({ field: `${field}.${name}`, message: 'expected a string' })
  }
  if (typeof merged.passphrase === 'string') registerSecret(merged.passphrase)
  return merged as TlsOptions
}

/** PEM text or Buffer as given; a path is read. One entry or an array of them. */
function readPem(value: unknown, field: string, problems: ConfigProblem[]): unknown {
  if (Array.isArray(value)) return value.map((entry, index) => readPem(entry, `${field}[${index}]`, problems))
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    if (!Buffer.from(value).includes('-----BEGIN')) problems.push({ field, message: 'the Buffer is not PEM (no -----BEGIN line)' })
    return value
  }
  if (typeof value !== 'string' || value === '') {
    problems.push({ field, message: 'expected PEM text, a Buffer, or the path of a PEM file' })
    return value
  }
  if (value.includes('-----BEGIN')) return value
  let text: string
  try {
    text = readFileSync(value, 'utf8')
  } catch (error) {
    const code = (error as { code?: unknown }).code
    problems.push({ field, message: `cannot read the file ${JSON.stringify(value)} (${typeof code === 'string' ? code : 'unreadable'})` })
    return value
  }
  if (!text.includes('-----BEGIN')) problems.push({ field, message: `the file ${JSON.stringify(value)} is not PEM (no -----BEGIN line)` })
  return text
}
