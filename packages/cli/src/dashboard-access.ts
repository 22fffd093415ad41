import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'

/** Who may use the dashboard, checked on every request before anything else. */
export interface AccessPolicy {
  /** Required on every request when set: `Authorization: Bearer`, the session cookie, or `?token=` on the page. */
  token: string | undefined
  /** A per-process secret the page carries; every POST must echo it in the `x-anymq-csrf` header. */
  csrf: string
}

/** The cookie that carries the token after the first `?token=` visit (HttpOnly, SameSite=Strict). */
export const tokenCookie = 'anymq_dashboard_token'

/** A refusal: the HTTP status and a sentence saying what was wrong and what is allowed. */
export interface Refusal {
  status: number
  message: string
}

export function newSecret(): string {
  return randomBytes(24).toString('base64url')
}

/** Whether `host` (an address or name to bind) is the loopback interface only. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '')
  if (bare === 'localhost') return true
  if (isIP(bare) === 4) return bare.startsWith('127.')
  return bare === '::1'
}

/**
 * Admits a request or says why not. With a token: the token must come with it (header, cookie, or
 * `?token=` on a GET). Without one (loopback only): the Host header must name a loopback address, so a
 * web page that rebinds its own domain name to 127.0.0.1 cannot read or drive the dashboard.
 */
export function admit(request: IncomingMessage, url: URL, policy: AccessPolicy): Refusal | undefined {
  if (policy.token === undefined) {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '')
    if (!isLoopback(host))
      return {
        status: 403,
        message: `the dashboard answers only to a loopback Host (127.0.0.1, localhost, [::1]) without --token; got ${JSON.stringify(host)}`,
      }
    return undefined
  }
  const offered = bearer(request) ?? cookie(request, tokenCookie) ?? (request.method === 'GET' ? (url.searchParams.get('token') ?? undefined) : undefined)
  if (offered === undefined)
    return { status: 401, message: 'this dashboard needs its token: open the URL it printed (with ?token=…) or send Authorization: Bearer <token>' }
  if (!sameSecret(offered, policy.token)) return { status: 401, message: 'wrong token for this dashboard' }
  return undefined
}

/**
 * Refuses a mutating request that a page of another origin could have sent: it must be a JSON POST
 * carrying the page's CSRF secret, and its Origin (browsers send one with every POST) must be this host.
 */
export function checkMutation(request: IncomingMessage, policy: AccessPolicy): Refusal | undefined {
  if (request.method !== 'POST') return { status: 405, message: 'actions are POST requests' }
  if (!(request.headers['content-type'] ?? '').startsWith('application/json'))
    return { status: 415, message: 'actions take a JSON body (Content-Type: application/json)' }
  const origin = request.headers.origin
  if (origin !== undefined && origin !== `http://${request.headers.host}`)
    return { status: 403, message: `cross-origin action refused: Origin ${JSON.stringify(origin)} is not this dashboard` }
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return { status: 403, message: `cross-site action refused (Sec-Fetch-Site: ${site})` }
  const csrf = request.headers['x-anymq-csrf']
  if (typeof csrf !== 'string' || !sameSecret(csrf, policy.csrf))
    return { status: 403, message: 'action refused: the x-anymq-csrf header must carry the secret of the page this dashboard served' }
  return undefined
}

function bearer(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined
}

function cookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const split = part.indexOf('=')
    if (split > 0 && part.slice(0, split).trim() === name) return decodeURIComponent(part.slice(split + 1).trim())
  }
  return undefined
}

// Digests first: timingSafeEqual needs equal lengths, and the length of the token must not leak either.
function sameSecret(offered: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(offered), digest(expected))
}
