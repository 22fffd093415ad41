import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Anymq } from '@anymq/core'
import { type AccessPolicy, admit, checkMutation, isLoopback, newSecret, type Refusal, tokenCookie } from './dashboard-access.js'
import { renderDeadLetters, renderDestinations, renderPage, targetQuery } from './dashboard-page.js'
import {
  adminOf,
  type DashboardAction,
  type DashboardTarget,
  dashboardActions,
  RequestError,
  readDeadLetters,
  readState,
  runAction,
  shownError,
  targetLabel,
} from './dashboard-state.js'

export interface DashboardOptions {
  /** Address to bind; default `127.0.0.1`. Anything but loopback needs a token. */
  host?: string
  /** Port to listen on; default 0 (any free port). */
  port?: number
  /** Required on every request; generated when the host is not loopback and none is given. */
  token?: string
  /** Refuse every mutating action (server side) and show no buttons for them. */
  readOnly?: boolean
  /** Shown besides what `mq.list()` finds (adapters that cannot list show only these). */
  named?: readonly DashboardTarget[]
  /** Only what anymq made with names starting with this. */
  prefix?: string
  /** How often the page refreshes, in ms; default 2000. */
  intervalMs?: number
  /** How many dead letters the page shows per queue; default 50. */
  deadLetterLimit?: number
  /** Where unexpected errors are reported (their messages never reach the page). */
  onError?: (error: unknown) => void
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://127.0.0.1:7780/`, without the token. */
  url: string
  /** The token the dashboard asks for, when it asks for one. */
  token: string | undefined
  /** Stops listening and closes open connections; the broker connection stays the caller's. */
  close(): Promise<void>
}

/**
 * Serves the dashboard of `mq` over HTTP: GET `/` (the page), `/api/state`, `/api/dead-letters?queue=…`,
 * and POST `/api/action` (refused when read-only). Every request passes {@link admit} first.
 */
export async function startDashboard(mq: Anymq, options: DashboardOptions = {}): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1'
  const token = options.token ?? (isLoopback(host) ? undefined : newSecret())
  const policy: AccessPolicy = { token, csrf: newSecret() }
  const readOnly = options.readOnly ?? false
  const intervalMs = options.intervalMs ?? 2000
  const deadLetterLimit = options.deadLetterLimit ?? 50
  const onError = options.onError ?? (() => {})
  // Every broker call of the dashboard runs one at a time: on some brokers (RabbitMQ) a peek holds the
  // messages it looks at until it ends, so a redrive beside it would not find its message, and a count
  // read beside it would come out short.
  let brokerWork: Promise<unknown> = Promise.resolve()
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const run = brokerWork.then(work, work)
    brokerWork = run.catch(() => {})
    return run
  }
  const stateOf = () => oneAtATime(() => readState(mq, { named: options.named ?? [], prefix: options.prefix, readOnly }))

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://dashboard.invalid')
    const refused = admit(request, url, policy)
    if (refused) return refuse(response, refused)
    if (request.method === 'GET' && url.pathname === '/') {
      // A token that came in the address moves to an HttpOnly cookie, and out of the address bar and history.
      if (url.searchParams.has('token') && token !== undefined) {
        response.writeHead(303, {
          location: '/',
          'set-cookie': `${tokenCookie}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
          ...securityHeaders,
        })
        return void response.end()
      }
      const nonce = randomBytes(16).toString('base64')
      const page = renderPage(await stateOf(), { csrf: policy.csrf, nonce, intervalMs })
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...securityHeaders, 'content-security-policy': contentSecurityPolicy(nonce) })
      return void response.end(page)
    }
    if (request.method === 'GET' && url.pathname === '/api/state') {
      const state = await stateOf()
      return sendJson(response, 200, {
        at: state.at,
        html: renderDestinations(state),
        rows: state.rows.map((row) => ({ label: row.label, query: targetQuery(row.target), stats: row.stats ?? null })),
      })
    }
    if (request.method === 'GET' && url.pathname === '/api/dead-letters') {
      const target = targetFrom(url.searchParams)
      let letters: Awaited<ReturnType<typeof readDeadLetters>> | string
      try {
        letters = await oneAtATime(() => readDeadLetters(mq, target, deadLetterLimit))
      } catch (error) {
        letters = shownError(error)
      }
      return sendJson(response, 200, { label: targetLabel(target), html: renderDeadLetters({ readOnly, admin: adminOf(mq) }, target, letters) })
    }
    if (url.pathname === '/api/action') {
      const refusedMutation = checkMutation(request, policy)
      if (refusedMutation) return refuse(response, refusedMutation)
      if (readOnly)
        return refuse(response, { status: 403, message: 'this dashboard is read-only (--read-only): it refuses every action that changes the broker' })
      const payload = (await readJson(request)) as { action?: unknown; target?: unknown; id?: unknown; body?: unknown }
      const action = payload.action
      if (typeof action !== 'string' || !Object.hasOwn(dashboardActions, action))
        throw new RequestError(`unknown action ${JSON.stringify(action)}; the actions are ${Object.keys(dashboardActions).join(', ')}`)
      if (typeof payload.target !== 'string') throw new RequestError('an action names its target: "queue=<name>" or "topic=<t>&subscription=<s>"')
      const needs = dashboardActions[action as DashboardAction]
      if (needs !== undefined && !adminOf(mq)[needs])
        return refuse(response, { status: 501, message: `${action} is not available on this broker (${mq.adapter})` })
      const target = targetFrom(new URLSearchParams(payload.target))
      const details = { id: typeof payload.id === 'string' ? payload.id : undefined, body: typeof payload.body === 'string' ? payload.body : undefined }
      const message = await oneAtATime(() => runAction(mq, action as DashboardAction, target, details))
      return sendJson(response, 200, { ok: true, message })
    }
    refuse(response, { status: 404, message: `no such page: ${request.method} ${url.pathname}` })
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof RequestError) return refuse(response, { status: 400, message: error.message })
      onError(error)
      if (!response.headersSent) refuse(response, { status: 500, message: shownError(error) })
      else response.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${shownHost}:${address.port}/`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function targetFrom(parameters: URLSearchParams): DashboardTarget {
  const queue = parameters.get('queue')
  const topic = parameters.get('topic')
  const subscription = parameters.get('subscription')
  if (queue && !topic && !subscription) return { kind: 'queue', name: queue }
  if (topic && subscription && !queue) return { kind: 'subscription', topic, name: subscription }
  throw new RequestError('name a queue (queue=<name>) or a subscription (topic=<topic>&subscription=<name>)')
}

const securityHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

function contentSecurityPolicy(nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...securityHeaders })
  response.end(JSON.stringify(body))
}

function refuse(response: ServerResponse, refusal: Refusal): void {
  sendJson(response, refusal.status, { error: refusal.message })
}

const maxBodyBytes = 1024 * 1024

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength
    if (size > maxBodyBytes) throw new RequestError(`an action body is at most ${maxBodyBytes} bytes`)
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new RequestError('the action body is not JSON')
  }
}
