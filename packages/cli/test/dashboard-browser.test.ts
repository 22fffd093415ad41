import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brokerUrl } from '@anymq/conformance'
import { type Anymq, connect } from '@anymq/core'
import '@anymq/rabbitmq'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Dashboard, startDashboard } from '../src/index.js'
import { deadLetter, uniqueQueue, until } from './dashboard-fixtures.js'

// Debian's chromium, driven by puppeteer-core (which never downloads a browser of its own).
const chromium = [process.env.ANYMQ_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => path !== undefined && existsSync(path))
const ci = process.env.CI === 'true'
const rabbitUrl = brokerUrl('ANYMQ_RABBITMQ_URL')
const screenshots = fileURLToPath(new URL('../../../.cache/dashboard-screenshots/', import.meta.url))

const missing = [
  chromium ? undefined : 'chromium not installed: apt-get install -y chromium (or set ANYMQ_CHROMIUM)',
  rabbitUrl ? undefined : 'ANYMQ_RABBITMQ_URL unset',
]
const reason = missing.filter(Boolean).join('; ')

// Under CI a missing chromium fails (beforeAll below); only a local run may skip, saying how to install it.
describe.skipIf(!ci && reason !== '')(`anymq dashboard in headless chromium on RabbitMQ${reason ? ` (${reason})` : ''}`, () => {
  let mq: Anymq
  let dashboard: Dashboard
  let browser: Browser
  let page: Page
  const pageErrors: string[] = []

  beforeAll(async () => {
    if (!chromium) throw new Error('the dashboard browser test needs chromium under CI: apt-get install -y chromium (.ci/run installs it)')
    mkdirSync(screenshots, { recursive: true })
    mq = await connect(rabbitUrl as string)
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      // Root in CI has no user namespace for chromium's sandbox; the page is our own, on loopback.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    })
    page = await browser.newPage()
    page.on('pageerror', (error) => pageErrors.push(String(error)))
    page.on('console', (message) => pageErrors.push(`console: ${message.text()}`))
    await page.setViewport({ width: 1280, height: 1000 })
  })

  afterAll(async () => {
    await browser?.close()
    await dashboard?.close()
    await mq?.close()
  })

  /** The text of one cell of the queue's row, as the page shows it now. */
  const cellText = (name: string, field: string) =>
    page.$eval(`tr[data-destination="${name}"] [data-field="${field}"]`, (element) => element.textContent ?? '').catch(() => undefined)

  async function waitForCells(name: string, expected: Record<string, string>): Promise<void> {
    await until(
      async () => {
        for (const [field, value] of Object.entries(expected)) if ((await cellText(name, field)) !== value) return false
        return true
      },
      `the page to show ${JSON.stringify(expected)} for ${name}`,
    )
  }

  // Found and clicked in one evaluation inside the page (page.$eval takes two round trips): the page
  // re-renders its tables on every poll, and a click on a node replaced in between reaches nothing.
  const click = (selector: string) =>
    until(
      () =>
        page.evaluate((selector) => {
          const { document } = globalThis as unknown as { document: { querySelector(selector: string): { click(): void } | null } }
          const element = document.querySelector(selector)
          element?.click()
          return element !== null
        }, selector),
      `${selector} to click`,
    )

  const waitForDeadLetters = (count: number) =>
    until(async () => (await page.$$eval('article.dead-letter', (articles) => articles.length)) === count, `${count} dead letters on the page`).catch(
      async (error) => {
        const shown = await page.$eval('body', (body) => body.textContent?.replace(/\s+/g, ' ').slice(0, 900))
        throw new Error(`${(error as Error).message}; the page shows: ${shown}; page errors: ${pageErrors.join(' | ')}`)
      },
    )

  it('shows the counts change as messages are sent and dead-lettered, and redrives one from the page', async () => {
    const name = uniqueQueue('browser')
    dashboard = await startDashboard(mq, { named: [{ kind: 'queue', name }], intervalMs: 300 })
    await page.goto(dashboard.url)
    await waitForCells(name, { ready: '0', dead: '0' })
    expect(await page.$eval('#broker-url', (element) => element.textContent)).toBe(mq.url)

    // Dead letters first: the failing consumer would take messages that were already waiting.
    const ids = await deadLetter(mq, name, [{ order: 'A' }, { order: 'B' }, { order: 'C' }])
    await mq.queue(name).sendBatch(['waiting-1', 'waiting-2'])
    await waitForCells(name, { ready: '2', dead: '3' })
    // The depth chart has drawn its lines from the samples so far.
    expect(await page.$$eval('#depth-chart polyline', (lines) => lines.length)).toBe(3)
    await page.screenshot({ path: join(screenshots, '1-counts.png'), fullPage: true })

    await click(`tr[data-destination="${name}"] button[data-action="show-dead-letters"]`)
    await waitForDeadLetters(3)
    const first = await page.$eval(`article.dead-letter[data-id="${ids[0]}"]`, (element) => element.textContent ?? '')
    expect(first).toContain('Unrecoverable: refused by the dashboard test')
    expect(first).toContain('"order": "A"')
    expect(first).toContain('tenant: acme')
    await page.screenshot({ path: join(screenshots, '2-dead-letters.png'), fullPage: true })

    await click(`article.dead-letter[data-id="${ids[0]}"] button[data-action="redrive"]`)
    const said = `dead letter ${ids[0]} moved back to ${name}`
    await until(async () => (await page.$eval('#status', (element) => element.textContent)) === said, `the page to say "${said}"`).catch(async (error) => {
      throw new Error(
        `${(error as Error).message}; it says ${await page.$eval('#status', (element) => element.textContent)}; page errors: ${pageErrors.join(' | ')}`,
      )
    })
    await waitForDeadLetters(2)
    await waitForCells(name, { ready: '3', dead: '2' })
    await page.screenshot({ path: join(screenshots, '3-redriven.png'), fullPage: true })

    // The queue got it, as a fresh message; the other two dead letters stayed where they were. The page
    // closes first: its polling peeks at the dead letters, and a RabbitMQ peek holds them while it looks.
    await page.close()
    const bodies: unknown[] = []
    for await (const message of mq.queue(name).messages({ signal: AbortSignal.timeout(10_000) })) {
      bodies.push(message.body)
      if (message.id === ids[0]) expect(message.attempt).toBe(1)
      if (bodies.length === 3) break
    }
    expect(bodies).toContainEqual({ order: 'A' })
    expect((await mq.queue(name).deadLetters().peek(10)).map((letter) => letter.id).sort()).toEqual([ids[1], ids[2]].sort())
  })
})
