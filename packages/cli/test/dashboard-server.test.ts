import { request as httpRequest } from 'node:http'
import { brokerUrl } from '@anymq/conformance'
import { type Anymq, connect, Unrecoverable } from '@anymq/core'
import type { AdapterFactory, Transport } from '@anymq/core/spi'
import { adapter as memoryAdapter } from '@anymq/memory'
import '@anymq/rabbitmq'
import { afterEach, describe, expect, it } from 'vitest'
import { type Dashboard, dashboardCommand, startDashboard } from '../src/index.js'
import { deadLetter, uniqueQueue, until } from './dashboard-fixtures.js'

const rabbitUrl = brokerUrl('ANYMQ_RABBITMQ_TLS_URL')

/** Every response of a case, to prove afterwards that no password went out in any of them. */
const seen: string[] = []
const open: { dashboard: Dashboard; mq: Anymq }[] = []

afterEach(async () => {
  for (const { dashboard, mq } of open.splice(0)) {
    await dashboard.close()
    await mq.close()
  }
  seen.length = 0
})

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(url, { redirect: 'manual', ...init })
  const text = await response.text()
  seen.push(text, JSON.stringify([...response.headers]))
  return { status: response.status, text, headers: response.headers }
}

/** The CSRF secret the page carries, as the page's own script reads it. */
function csrfOf(page: string): string {
  return /<meta name="anymq-csrf" content="([^"]+)">/.exec(page)?.[1] ?? ''
}

function post(dashboard: Dashboard, csrf: string, payload: unknown, headers: Record<string, string> = {}) {
  return call(`${dashboard.url}api/action`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-anymq-csrf': csrf, ...headers },
    body: JSON.stringify(payload),
  })
}

/** The number in one cell of a destination's row of the page (or of the /api/state fragment). */
function cell(html: string, destination: string, field: string): string | undefined {
  const row = new RegExp(`<tr data-destination="${destination}"[^>]*>(.*?)</tr>`).exec(html)?.[1]
  return row === undefined ? undefined : new RegExp(`data-field="${field}">([^<]*)<`).exec(row)?.[1]
}

const brokers: { name: string; url: string | undefined; password: string | undefined }[] = [
  { name: 'memory', url: 'memory://dashboard-server', password: undefined },
  { name: 'rabbitmq (TLS user with a password)', url: rabbitUrl, password: rabbitUrl ? decodeURIComponent(new URL(rabbitUrl).password) : undefined },
]

for (const broker of brokers) {
  describe.skipIf(!broker.url)(
    `anymq dashboard server on ${broker.name}${broker.url ? '' : ' (ANYMQ_RABBITMQ_TLS_URL unset: run scripts/brokers.sh up rabbitmq)'}`,
    () => {
      async function started(options: Parameters<typeof startDashboard>[1] = {}) {
        const mq = await connect(broker.url as string)
        const name = uniqueQueue('dashboard')
        // RabbitMQ cannot list (admin.list false): the dashboard shows what it is told to.
        const dashboard = await startDashboard(mq, { named: [{ kind: 'queue', name }], ...options })
        open.push({ dashboard, mq })
        return { mq, name, dashboard }
      }

      it('shows depths and dead letters, and redrives, deletes and redrives all by POST; no password in any response', async () => {
        const { mq, name, dashboard } = await started()
        const ids = await deadLetter(mq, name, [{ order: 1 }, { order: 2 }, { order: 3 }])
        await mq.queue(name).sendBatch(['waiting-1', 'waiting-2'])

        const page = await call(dashboard.url)
        expect(page.status).toBe(200)
        expect(page.headers.get('content-security-policy')).toMatch(/script-src 'nonce-/)
        expect(page.text).toContain(`<code id="broker-url">${mq.url}</code>`)
        expect(cell(page.text, name, 'ready')).toBe('2')
        expect(cell(page.text, name, 'dead')).toBe('3')
        expect(page.text).toContain(`data-action="show-dead-letters" data-target="queue=${name}"`)

        const dead = JSON.parse((await call(`${dashboard.url}api/dead-letters?queue=${name}`)).text) as { label: string; html: string }
        expect(dead.label).toBe(name)
        for (const id of ids) expect(dead.html).toContain(`<article class="dead-letter" data-id="${id}">`)
        expect(dead.html).toContain('Unrecoverable: refused by the dashboard test')
        expect(dead.html).toContain('<code>tenant</code>: acme')
        expect(dead.html).toMatch(/&#34;order&#34;: 2/)
        expect(dead.html).toMatch(/first failure \d{4}-\d\d-\d\dT.* · last failure \d{4}-\d\d-\d\dT/)
        expect(dead.html).toContain('<span data-field="attempts">1</span> attempts')

        const csrf = csrfOf(page.text)
        const redriven = await post(dashboard, csrf, { action: 'redrive', target: `queue=${name}`, id: ids[0] })
        expect(redriven.status).toBe(200)
        expect(JSON.parse(redriven.text).message).toBe(`dead letter ${ids[0]} moved back to ${name}`)
        const deleted = await post(dashboard, csrf, { action: 'delete', target: `queue=${name}`, id: ids[1] })
        expect(JSON.parse(deleted.text).message).toBe(`dead letter ${ids[1]} deleted`)
        const again = await post(dashboard, csrf, { action: 'delete', target: `queue=${name}`, id: ids[1] })
        expect(JSON.parse(again.text).message).toMatch(/^no dead letter .* \(already moved or deleted\)$/)

        const state = async () =>
          JSON.parse((await call(`${dashboard.url}api/state`)).text) as {
            html: string
            rows: { label: string; stats: { ready: number; deadLettered: number } }[]
          }
        // RabbitMQ's queue counts follow a moment after the fact.
        await until(async () => {
          const html = (await state()).html
          return cell(html, name, 'ready') === '3' && cell(html, name, 'dead') === '1'
        }, 'ready 3, dead 1 after one redrive and one delete')
        const all = await post(dashboard, csrf, { action: 'redrive-all', target: `queue=${name}` })
        expect(JSON.parse(all.text).message).toBe(`1 dead letters moved back to ${name}`)
        await until(
          async () => (await state()).rows.some((row) => row.label === name && row.stats.ready === 4 && row.stats.deadLettered === 0),
          'ready 4, dead 0',
        )
        const bodies: unknown[] = []
        for await (const message of mq.queue(name).messages({ signal: AbortSignal.timeout(10_000) })) {
          bodies.push(message.body)
          if (bodies.length === 4) break
        }
        expect(bodies.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(['waiting-1', 'waiting-2', { order: 1 }, { order: 3 }])

        if (broker.password !== undefined) {
          expect(seen.length).toBeGreaterThan(10)
          for (const text of seen) expect(text).not.toContain(broker.password)
          expect(page.text).toContain(':***@')
        }
      })

      it('--read-only refuses every action on the server and shows no button for one', async () => {
        const { mq, name, dashboard } = await started({ readOnly: true })
        const [id] = await deadLetter(mq, name, ['stays'])
        const page = await call(dashboard.url)
        expect(page.text).toContain('<span class="badge" id="read-only">read-only</span>')
        const dead = JSON.parse((await call(`${dashboard.url}api/dead-letters?queue=${name}`)).text) as { html: string }
        expect(dead.html).toContain(`data-id="${id}"`)
        const buttons = [...`${page.text}${dead.html}`.matchAll(/data-action="([^"]+)"/g)].map((match) => match[1])
        expect(new Set(buttons)).toEqual(new Set(['show-dead-letters']))
        for (const action of ['redrive', 'delete', 'redrive-all', 'delete-all', 'purge', 'delete-destination', 'edit']) {
          const refused = await post(dashboard, csrfOf(page.text), { action, target: `queue=${name}`, id, body: '1' })
          expect(refused.status).toBe(403)
          expect(JSON.parse(refused.text).error).toMatch(/read-only/)
        }
        expect((await mq.queue(name).deadLetters().peek(10)).map((letter) => letter.id)).toEqual([id])
      })
    },
  )
}

describe('anymq dashboard of topics on memory:// (an adapter that lists)', () => {
  it("lists topics and subscriptions with their depths, folds dead-letter queues into their source, and redrives a subscription's dead letter", async () => {
    const mq = await connect('memory://dashboard-topics')
    const topic = mq.topic('dash-events')
    const failing = topic.subscribe('billing', () => {
      throw new Unrecoverable('billing refused it')
    })
    // A durable subscription with no consumer: it keeps its copy.
    await topic.subscribe('audit', async () => {}).close()
    const { id } = await topic.publish({ invoice: 7 })
    await until(async () => (await topic.deadLetters('billing').peek(10)).length === 1, 'the billing dead letter')
    await failing.close()
    const dashboard = await startDashboard(mq, { prefix: 'dash-' })
    open.push({ dashboard, mq })

    const page = await call(dashboard.url)
    expect(page.text).toContain('<li data-topic="dash-events">dash-events</li>')
    expect(cell(page.text, 'dash-events/billing', 'dead')).toBe('1')
    expect(cell(page.text, 'dash-events/audit', 'ready')).toBe('1')
    expect(page.text).not.toContain('data-destination="dash-events.billing.dlq"')
    const dead = JSON.parse((await call(`${dashboard.url}api/dead-letters?topic=dash-events&subscription=billing`)).text) as { html: string }
    expect(dead.html).toContain('Unrecoverable: billing refused it')
    const redriven = await post(dashboard, csrfOf(page.text), { action: 'redrive', target: 'topic=dash-events&subscription=billing', id })
    expect(JSON.parse(redriven.text).message).toBe(`dead letter ${id} moved back to dash-events/billing`)
    const after = await call(dashboard.url)
    expect(cell(after.text, 'dash-events/billing', 'ready')).toBe('1')
    expect(cell(after.text, 'dash-events/billing', 'dead')).toBe('0')
    // Only billing got it back: audit still holds its one copy.
    expect(cell(after.text, 'dash-events/audit', 'ready')).toBe('1')
  })
})

describe('anymq dashboard access', () => {
  async function onMemory(options: Parameters<typeof startDashboard>[1] = {}) {
    const mq = await connect('memory://dashboard-access')
    const dashboard = await startDashboard(mq, options)
    open.push({ dashboard, mq })
    return dashboard
  }

  it('asks for its token on every request: header, cookie from a ?token= visit, or nothing', async () => {
    const token = 'a-token-of-this-test-0123456789'
    const dashboard = await onMemory({ token })
    expect((await call(dashboard.url)).status).toBe(401)
    expect((await call(`${dashboard.url}api/state`)).status).toBe(401)
    expect((await call(`${dashboard.url}api/state`, { headers: { authorization: 'Bearer not-the-token' } })).status).toBe(401)
    expect((await call(`${dashboard.url}api/state`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    const visit = await call(`${dashboard.url}?token=${token}`)
    expect(visit.status).toBe(303)
    expect(visit.headers.get('location')).toBe('/')
    const cookie = visit.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/)
    const page = await call(dashboard.url, { headers: { cookie: cookie.split(';')[0] as string } })
    expect(page.status).toBe(200)
    expect(page.text).not.toContain(token)
    // An action with the cookie and without the page's CSRF secret is still refused.
    const forged = await call(`${dashboard.url}api/action`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: cookie.split(';')[0] as string },
      body: JSON.stringify({ action: 'purge', target: 'queue=x' }),
    })
    expect(forged.status).toBe(403)
  })

  it('generates a token when bound beyond loopback', async () => {
    const dashboard = await onMemory({ host: '0.0.0.0' })
    expect(dashboard.token).toMatch(/^[\w-]{32}$/)
    const local = dashboard.url.replace('0.0.0.0', '127.0.0.1')
    expect((await call(local)).status).toBe(401)
    expect((await call(`${local}api/state`, { headers: { authorization: `Bearer ${dashboard.token}` } })).status).toBe(200)
  })

  it('refuses cross-origin actions and a non-loopback Host without a token (DNS rebinding)', async () => {
    const dashboard = await onMemory()
    const page = await call(dashboard.url)
    const csrf = csrfOf(page.text)
    expect(csrf.length).toBeGreaterThan(20)
    const target = 'queue=access-queue'
    expect((await post(dashboard, 'wrong-secret', { action: 'purge', target })).status).toBe(403)
    expect((await post(dashboard, csrf, { action: 'purge', target }, { origin: 'http://evil.example' })).status).toBe(403)
    expect((await post(dashboard, csrf, { action: 'purge', target }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403)
    expect((await call(`${dashboard.url}api/action`, { method: 'POST', headers: { 'x-anymq-csrf': csrf }, body: 'action=purge' })).status).toBe(415)
    const allowed = await post(dashboard, csrf, { action: 'purge', target }, { origin: dashboard.url.replace(/\/$/, '') })
    expect(allowed.status).toBe(200)
    expect(JSON.parse(allowed.text).message).toBe('access-queue purged')
    const rebound = await new Promise<number>((resolve, reject) => {
      const { port } = new URL(dashboard.url)
      httpRequest({ host: '127.0.0.1', port, path: '/api/state', headers: { host: `evil.example:${port}` } }, (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
        .on('error', reject)
        .end()
    })
    expect(rebound).toBe(403)
  })

  it('says "not available on this broker" where the adapter has no admin calls, and refuses their actions', async () => {
    // The memory adapter with its admin calls taken away: what a broker without them looks like.
    const withoutAdmin: AdapterFactory = {
      ...memoryAdapter,
      capabilities: { ...memoryAdapter.capabilities, admin: undefined },
      async connect(url, context) {
        const transport = await memoryAdapter.connect(url, context)
        return new Proxy(transport, {
          get: (target, property) => {
            if (property === 'admin') return undefined
            if (property === 'capabilities') return { ...transport.capabilities, admin: undefined }
            const value = Reflect.get(target, property, target)
            return typeof value === 'function' ? value.bind(target) : value
          },
        }) as Transport
      },
    }
    const mq = await connect('memory://dashboard-no-admin', { adapter: withoutAdmin })
    const dashboard = await startDashboard(mq, { named: [{ kind: 'queue', name: 'plain' }] })
    open.push({ dashboard, mq })
    const page = await call(dashboard.url)
    expect(page.status).toBe(200)
    expect(page.text).toContain('listing is not available on this broker')
    expect(cell(page.text, 'plain', 'unavailable')).toBe('not available on this broker')
    const dead = JSON.parse((await call(`${dashboard.url}api/dead-letters?queue=plain`)).text) as { html: string }
    expect(dead.html).toContain('redrive and delete of one message are not available on this broker')
    const refused = await post(dashboard, csrfOf(page.text), { action: 'redrive', target: 'queue=plain', id: 'x' })
    expect(refused.status).toBe(501)
    expect(JSON.parse(refused.text).error).toBe('redrive is not available on this broker (memory)')
  })
})

describe('anymq dashboard <url>', () => {
  /** Runs the command until the page answered `check`, then stops it; resolves with what it printed. */
  async function runCommand(args: string[], check: (url: string, token: string | undefined) => Promise<void>) {
    let stdout = ''
    let stderr = ''
    const stop = new AbortController()
    let printed: () => void = () => {}
    const ready = new Promise<void>((resolve) => (printed = resolve))
    const io = {
      stdout: {
        write: (text: string) => {
          stdout += text
          if (text.startsWith('Ctrl-C')) printed()
          return true
        },
      },
      stderr: {
        write: (text: string) => {
          stderr += text
          return true
        },
      },
    }
    const running = dashboardCommand(args, io, stop.signal)
    await Promise.race([ready, running])
    const [, url, token] = /^open (http:\/\/\S+?\/)(?:\?token=(\S+))?/m.exec(stdout) ?? []
    try {
      await check(url as string, token === '<your' ? undefined : token)
    } finally {
      stop.abort()
    }
    return { code: await running, stdout, stderr }
  }

  it('prints where it listens, serves the page until stopped, and says memory:// is in-process', async () => {
    const { code, stdout, stderr } = await runCommand(['memory://dashboard-command', '--port', '0', '--queue', 'shown-queue', '--read-only'], async (url) => {
      const page = await call(url)
      expect(page.status).toBe(200)
      expect(page.text).toContain('<tr data-destination="shown-queue"')
      expect(page.text).toContain('id="read-only"')
    })
    expect(code).toBe(0)
    expect(stdout).toMatch(/^anymq dashboard of memory:\/\/dashboard-command \(adapter memory\), read-only$/m)
    expect(stderr).toMatch(/in-process broker/)
  })

  it('prints a generated token once when bound beyond loopback, and the page asks for it', async () => {
    let seenToken: string | undefined
    const { stdout } = await runCommand(['memory://dashboard-command', '--port', '0', '--host', '0.0.0.0'], async (url, token) => {
      seenToken = token
      const local = url.replace('0.0.0.0', '127.0.0.1')
      expect((await call(local)).status).toBe(401)
      expect((await call(`${local}?token=${token}`)).status).toBe(303)
    })
    expect(seenToken).toMatch(/^[\w-]{32}$/)
    expect(stdout.split(seenToken as string).length - 1).toBe(1)
    expect(stdout).toMatch(/anyone who can reach it and has the token can change this broker/)
  })

  it('refuses a short --token and a --subscription without a topic', async () => {
    const io = { stdout: { write: () => true }, stderr: { write: () => true } }
    await expect(dashboardCommand(['memory://', '--token', 'short'], io)).rejects.toThrow('--token must be at least 16 characters')
    await expect(dashboardCommand(['memory://', '--subscription', 'no-topic'], io)).rejects.toThrow('--subscription takes topic/subscription')
  })
})
