import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/process.ts'
import { startLiveServer, type LiveServer } from '../helpers/server.ts'

/**
 * The dashboard in a real browser (Debian's chromium driven by
 * playwright-core) against the real service on its sandbox: the numbers it
 * shows are sync/status's, and pause/resume work with the admin token.
 * (The README's docs/dashboard.png comes from a default `npm start`:
 * `npm run docs:screenshot`.)
 */
const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = path.join(os.tmpdir(), `slotsync-dashboard-${process.pid}.png`)
// Everything the page may ask for: its own files and the public procedures' REST twins.
const ALLOWED = new Set([
  '/',
  '/dashboard.js',
  '/dashboard.css',
  '/api/v1/sync/status',
  '/api/v1/sync/freshness',
  '/api/v1/sync/budget-history',
  '/api/v1/sync/explain',
  '/api/v1/sync/pause',
  '/api/v1/sync/resume',
  '/api/v1/audit',
])

type Status = {
  paused: boolean
  running: boolean
  neverFetched: number
  firstPass: { pairs: number; fetched: number; neverFetched: number }
  tiers: Record<string, { total: number; fresh: number; due: number; overdue: number; oldestFetchedAt?: string | null }>
  budget: { limitPerMinute: number }
  products: { active: number }
  failingProducts: { productId: number; lastError: string | null }[]
  partner: { baseUrl?: string; host?: string; sandbox: boolean }
}
type Grid = { products: { productId: number; today: string; fetchedAt: (string | null)[]; state: string[] }[] }

let server: LiveServer
let browser: Browser

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`The browser test needs Debian's chromium at ${CHROMIUM}: run \`apt-get install -y chromium\` (.ci/run installs it when missing).`)
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  server = await startLiveServer({ products: 10 })
  // Some wrong answers from the partner, so the page has failing products to list.
  const s = await server.get<Status>('/api/v1/sync/status')
  const sandbox = s.partner.baseUrl ?? `http://${s.partner.host}`
  const faults = await fetch(`${sandbox}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ wrongShapeRate: 0.04 }),
  })
  expect(faults.status).toBe(200)
}, 90_000)
afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

const digits = (text: string | null) => (text ?? '').replace(/,/g, '').trim()
const pick = (obj: unknown, key: string) => key.split('.').reduce<unknown>((o, k) => (o == null ? undefined : (o as Record<string, unknown>)[k]), obj)

/** Opens the page with its timers under the test's control, so the numbers cannot move while read. */
async function openDashboard(): Promise<{ page: Page; requested: Set<string>; errors: string[]; status: Status; grid: Grid }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const requested = new Set<string>()
  const errors: string[] = []
  page.on('request', (r) => requested.add(new URL(r.url()).pathname))
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
  // Timers stand still from the start: the page reads status, then the grid
  // and the chart, once each, and nothing moves while the test reads them.
  await page.clock.install()
  await page.clock.pauseAt(Date.now() + 1_000)
  const statusResponse = page.waitForResponse((r) => r.url().endsWith('/api/v1/sync/status'))
  const gridResponse = page.waitForResponse((r) => r.url().endsWith('/api/v1/sync/freshness'))
  await page.goto(`${server.url}/`)
  await page.waitForSelector('body[data-slow-loaded]')
  const status = (await (await statusResponse).json()) as Status
  return { page, requested, errors, status, grid: (await (await gridResponse).json()) as Grid }
}

describe('dashboard in chromium', () => {
  it('shows the numbers sync/status returns, the grid of the freshness read, the hour chart', async () => {
    // Part of the first pass done: near days fetched, far ones not yet (what the screenshot shows).
    // The horizon's rows first (a status read before the engine's first upkeep counts none, and so none never fetched).
    const horizon = (s: Status) => Object.values(s.tiers).reduce((a, t) => a + t.total, 0)
    await server.waitForStatus((s) => horizon(s as unknown as Status) === 12 * 60 && s.neverFetched <= 12 * 60 - 150, '150 days fetched', 90_000)
    const { page, requested, errors, status, grid } = await openDashboard()
    // Every number the page labels with a status field equals that field of the status it received.
    const shown = await page.$$eval('[data-k]', (els) => els.map((e) => [e.getAttribute('data-k')!, e.textContent] as const))
    expect(shown.length).toBeGreaterThanOrEqual(8 + 4 * Object.keys(status.tiers).length)
    for (const [key, text] of shown) expect(digits(text), key).toBe(String(pick(status, key)))
    for (const [tier, t] of Object.entries(status.tiers)) {
      expect(await page.locator(`tr[data-tier="${tier}"]`).count(), tier).toBe(1)
      // The per-tier oldest age: shown when the status reports it, a dash when it does not.
      const oldest = await page.textContent(`td[data-oldest="${tier}"]`)
      if (!('oldestFetchedAt' in t)) expect(oldest, tier).toBe('–')
      else expect(oldest, tier).toMatch(t.oldestFetchedAt ? /^\d+(\.\d)? (s|min|h|d)$/ : /^never$/)
    }
    expect(await page.textContent('#state')).toBe(status.paused ? 'paused' : 'running')
    const total = Object.values(status.tiers).reduce((a, t) => a + t.total, 0)
    expect(total).toBe(12 * 60)
    // The first-pass banner: up while days are never fetched, with status' own counts.
    expect(status.firstPass).toMatchObject({ pairs: total, fetched: total - status.neverFetched, neverFetched: status.neverFetched })
    expect(await page.isVisible('#first-pass')).toBe(status.neverFetched > 0)
    if (status.neverFetched)
      expect(await page.textContent('#first-pass-text')).toMatch(new RegExp(`^${(total - status.neverFetched).toLocaleString('en-US')} of 720 days fetched, `))
    expect(await page.textContent('#partner')).toBe(`${status.partner.host ?? new URL(status.partner.baseUrl!).host} (sandbox)`)
    const failingRows = await page.$$eval('#failing tbody tr[data-product]', (rows) => rows.map((r) => Number(r.getAttribute('data-product'))))
    expect(failingRows).toEqual(status.failingProducts.map((f) => f.productId))

    // The status the page got is the service's: what does not move with time agrees with a fresh read.
    const now = await server.get<Status>('/api/v1/sync/status')
    expect(status.products.active).toBe(now.products.active)
    expect(status.budget.limitPerMinute).toBe(6000)
    for (const [tier, t] of Object.entries(now.tiers)) expect(status.tiers[tier]!.total).toBe(t.total)

    // Grid: one row per product, 14 cells each, grey exactly where the freshness read has no fetch.
    expect(await page.locator('#grid tbody tr').count()).toBe(grid.products.length)
    expect(grid.products).toHaveLength(12)
    expect(await page.locator('#grid td.c').count()).toBe(12 * 14)
    const nulls = grid.products.reduce((a, p) => a + p.fetchedAt.filter((f) => f === null).length, 0)
    expect(await page.locator('#grid td.c.never').count()).toBe(nulls)
    expect(nulls).toBeLessThan(12 * 14)
    // Each cell painted with the class the server gives it (the one sync status counts with).
    const painted = await page.$$eval('#grid td.c', (cells) => cells.map((c) => c.className.split(' ')[1]))
    expect(painted).toEqual(grid.products.flatMap((p) => p.state))
    // Each cell names its product and product-local day, for a per-cell view (sync/explain) to hook on.
    const cells = await page.$$eval('#grid td.c', (cs) => cs.map((c) => [Number(c.getAttribute('data-product-id')), c.getAttribute('data-date')]))
    const addDays = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
    expect(cells).toEqual(grid.products.flatMap((p) => Array.from({ length: 14 }, (_, i) => [p.productId, addDays(p.today, i)])))
    expect(await page.locator('#history rect').count()).toBe(60)
    // A click on a day shows the policy's explanation of it, as sync/explain answers it.
    const cell = page.locator(`#grid td.c[data-product-id="${grid.products[0]!.productId}"][data-offset="3"]`)
    const explained = page.waitForResponse((r) => r.url().includes('/api/v1/sync/explain?'))
    await cell.click()
    const x = (await (await explained).json()) as { productId: number; date: string; reason: string; rank: number | null }
    expect(x).toMatchObject({ productId: grid.products[0]!.productId, date: addDays(grid.products[0]!.today, 3) })
    await page.waitForSelector('#explain-panel:not([hidden])')
    expect(await page.textContent('#explain dd[data-x="reason"]')).toBe(x.reason)
    expect(await page.textContent('#explain dd[data-x="rank in tier"]')).toBe(x.rank === null ? '–' : String(x.rank))

    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(fs.readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe('PNG')
    if (!SCREENSHOT.startsWith(ROOT)) fs.rmSync(SCREENSHOT)
    expect([...requested].filter((p) => !ALLOWED.has(p))).toEqual([])
    expect(errors).toEqual([])
    await page.context().close()
  }, 120_000)

  it('pauses and resumes with the admin token, kept in sessionStorage only', async () => {
    const { page, errors } = await openDashboard()
    expect(await page.textContent('#toggle')).toBe('Pause sync')
    await page.click('#toggle')
    await page.waitForSelector('#token-form:not([hidden])')
    await page.fill('#token', server.adminToken)
    await page.click('#token-form button[type=submit]')
    await page.waitForSelector('#state[data-state="paused"]')
    expect(await page.textContent('#state')).toBe('paused')
    expect((await server.get<Status>('/api/v1/sync/status')).paused).toBe(true)
    expect(await page.textContent('#toggle')).toBe('Resume sync')
    expect(await page.evaluate('sessionStorage.getItem("slotsync.adminToken")')).toBe(server.adminToken)
    expect(await page.evaluate('localStorage.length')).toBe(0)
    expect(await page.context().cookies()).toEqual([])

    // Resume: the token is remembered for this tab, no second prompt.
    await page.click('#toggle')
    await page.waitForSelector('#state[data-state="running"]')
    expect(await page.isHidden('#token-form')).toBe(true)
    expect((await server.get<Status>('/api/v1/sync/status')).paused).toBe(false)
    // The audit panel, shown to a tab with the token: the two actions just taken, newest first.
    // A function, not a string: the page's CSP forbids eval, which a string predicate needs once it has to poll.
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('#audit tbody tr').length >= 2,
    )
    const rows = await page.$$eval('#audit tbody tr', (trs) =>
      trs.slice(0, 2).map((tr) => [...tr.querySelectorAll('td')].slice(1, 3).map((td) => td.textContent)),
    )
    expect(rows).toEqual([
      ['sync.resume', 'all'],
      ['sync.pause', 'all'],
    ])
    expect(await page.textContent('#audit')).not.toContain(server.adminToken)
    expect(errors).toEqual([])
    await page.context().close()
  }, 60_000)

  it('works behind a proxy that serves slotsync under a path prefix', async () => {
    // A minimal reverse proxy: /ops/slotsync/<path> → the service's /<path>.
    const target = new URL(server.url)
    const proxy = http.createServer((req, res) => {
      const path = req.url!.replace(/^\/ops\/slotsync/, '')
      if (path === req.url) return void res.writeHead(404).end()
      const up = http.request({ host: target.hostname, port: target.port, path, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers)
        r.pipe(res)
      })
      req.pipe(up)
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    try {
      const context = await browser.newContext()
      const page = await context.newPage()
      const requested: string[] = []
      page.on('request', (r) => requested.push(new URL(r.url()).pathname))
      await page.goto(`http://127.0.0.1:${(proxy.address() as { port: number }).port}/ops/slotsync/`)
      await page.waitForSelector('body[data-slow-loaded]')
      expect(await page.textContent('#state')).toMatch(/^(running|paused)$/)
      expect(await page.locator('#grid tbody tr').count()).toBe(12)
      expect(requested.length).toBeGreaterThanOrEqual(6)
      for (const p of requested) expect(p).toMatch(/^\/ops\/slotsync\//)
      await context.close()
    } finally {
      proxy.closeAllConnections()
      await new Promise((resolve) => proxy.close(resolve))
    }
  }, 60_000)

  it('a wrong token changes nothing and is forgotten', async () => {
    const { page } = await openDashboard()
    await page.click('#toggle')
    await page.fill('#token', 'not-the-token')
    await page.click('#token-form button[type=submit]')
    await page.waitForSelector('#message.error')
    expect(await page.textContent('#message')).toContain('refused')
    expect(await page.isVisible('#token-form')).toBe(true)
    expect(await page.evaluate('sessionStorage.getItem("slotsync.adminToken")')).toBeNull()
    expect((await server.get<Status>('/api/v1/sync/status')).paused).toBe(false)
    await page.context().close()
  }, 60_000)
})
