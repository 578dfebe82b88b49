import fs from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLiveServer, type LiveServer } from '../helpers/server.ts'

/**
 * The dashboard on a phone (a 400 px wide viewport in Debian's chromium)
 * during a first pass at the default partner limit: the page never scrolls
 * sideways (wide tables scroll inside their panel), every panel shows, and
 * the first-pass banner and the oldest figure say how much is not fetched.
 */
const CHROMIUM = '/usr/bin/chromium'
const WIDTH = 400
/** The page's status timer (dashboard.js STATUS_EVERY_MS). */
const STATUS_EVERY_MS = 5_000

type FirstPass = { pairs: number; fetched: number; neverFetched: number; perMinute: number; pace: string; etaAt: string | null }
type Status = { paused: boolean; running: boolean; neverFetched: number; oldestServedFetchedAt: string | null; firstPass: FirstPass }

let server: LiveServer
let browser: Browser

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`The browser test needs Debian's chromium at ${CHROMIUM}: run \`apt-get install -y chromium\`.`)
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  // 14 and 15 at the default 30 a minute: 120 pairs, a first pass of about four minutes, so the banner is up throughout.
  server = await startLiveServer({ products: 0, env: { PARTNER_RATE_LIMIT_PER_MINUTE: '30', SANDBOX_RATE_LIMIT_PER_MINUTE: '30' } })
  const s = await server.get<{ partner: { host: string } }>('/api/v1/sync/status')
  // Wrong answers from the partner, so the failing table has long error texts to fit.
  const faults = await fetch(`http://${s.partner.host}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ wrongShapeRate: 0.3 }),
  })
  expect(faults.status).toBe(200)
}, 90_000)
afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

describe('dashboard at 400 px', () => {
  it('fits the width, shows every panel, and the first pass as a banner with progress and time to go', async () => {
    const status = (s: unknown) => s as Status
    await server.waitForStatus((s) => status(s).firstPass.pairs === 120 && status(s).firstPass.fetched >= 4, 'a few days fetched', 60_000)
    const context = await browser.newContext({ viewport: { width: WIDTH, height: 800 } })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.clock.install()
    await page.clock.pauseAt(Date.now() + 1_000)
    const nextStatus = () => page.waitForResponse((r) => r.url().endsWith('/api/v1/sync/status'))
    let statusResponse = nextStatus()
    await page.goto(`${server.url}/`)
    // On a loaded machine the page's first status can fail (a 503 when the database is slow to answer);
    // the page asks again on its 5 s timer, which the paused clock drives here. What it rendered is the last good answer.
    let s: Status | undefined
    const failed: string[] = []
    while (!s) {
      const r = await statusResponse
      if (r.ok()) s = (await r.json()) as Status
      else {
        failed.push(`HTTP ${r.status()}: ${(await r.text()).slice(0, 200)}`)
        if (failed.length === 4) throw new Error(`sync/status failed ${failed.length} times: ${failed.join('; ')}`)
        statusResponse = nextStatus()
        await page.clock.runFor(STATUS_EVERY_MS)
      }
    }
    if (failed.length) console.warn(`dashboard-narrow: sync/status failed before it answered: ${failed.join('; ')}`)
    const rendered = await page.waitForSelector('body[data-status-loaded]', { timeout: 10_000 }).catch(() => null)
    expect(rendered, `status not rendered: ${await page.textContent('#message')}`).not.toBeNull()
    await page.waitForSelector('body[data-slow-loaded]')

    // No sideways scroll of the page itself.
    const widths = (await page.evaluate('({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })')) as { scroll: number; inner: number }
    expect(widths.inner).toBe(WIDTH)
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner)
    // The grid is wider than a phone: it scrolls inside its own panel.
    const grid = await page.$eval('#grid-wrap', (e) => ({ scroll: e.scrollWidth, client: e.clientWidth }))
    expect(grid.scroll).toBeGreaterThan(grid.client)
    // The tier table fits whole, with no scrolling at all.
    const tiers = await page.$eval('#tiers', (e) => ({ table: e.getBoundingClientRect().width, panel: e.parentElement!.clientWidth }))
    expect(tiers.table).toBeLessThanOrEqual(tiers.panel)
    // Every panel shown, and inside the viewport's width.
    for (const sel of ['header', '#toggle', '#first-pass', '#tiers', '#oldest-served', '#history', '#grid-wrap', '#failing']) {
      expect(await page.isVisible(sel), sel).toBe(true)
      const box = (await page.locator(sel).boundingBox())!
      expect(box.x, sel).toBeGreaterThanOrEqual(0)
      expect(box.x + box.width, sel).toBeLessThanOrEqual(WIDTH)
    }
    expect(await page.locator('#failing tbody tr').count()).toBeGreaterThan(0)

    // The banner: status' firstPass in words, the time to go from its etaAt.
    const fp = s.firstPass
    expect(fp.neverFetched).toBeGreaterThan(0)
    expect(fp.fetched + fp.neverFetched).toBe(120)
    const banner = await page.textContent('#first-pass-text')
    expect(banner).toMatch(new RegExp(`^${fp.fetched} of 120 days fetched, (~(\\d+ h )?\\d+ min|under a minute) to go$`))
    const minutes = Number(/~(\d+) min/.exec(banner!)?.[1] ?? 0)
    // At 30 a minute, 120 pairs take about four minutes: the estimate is of that order.
    expect(minutes).toBeLessThanOrEqual(5)
    expect(await page.textContent('#first-pass-note')).toContain(`${fp.perMinute}/min`)
    const bar = await page.getAttribute('#first-pass-bar', 'style')
    expect(Number.parseFloat(/width: ([\d.]+)%/.exec(bar ?? '')![1]!)).toBeCloseTo((100 * fp.fetched) / 120, 3)

    // "Oldest" never reads as complete coverage: the never-fetched days stand beside it.
    expect(await page.textContent('#oldest-served')).toMatch(new RegExp(`^oldest: (\\d+ s ago|–) · ${s.neverFetched} never fetched$`))
    expect(s.neverFetched).toBeGreaterThan(0)

    // Paused: the banner stays, with no time to go (nothing advances).
    await server.post('/api/v1/sync/pause')
    expect((await server.get<Status>('/api/v1/sync/status')).firstPass.etaAt).toBeNull()
    await page.clock.runFor(STATUS_EVERY_MS)
    // A function, not a string: the page's CSP forbids eval, which a string predicate needs once it has to poll.
    await page.waitForFunction(() =>
      (globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document
        .getElementById('first-pass-text')
        ?.textContent?.endsWith(', paused'),
    )
    expect(await page.textContent('#first-pass-text')).toMatch(/^\d+ of 120 days fetched, paused$/)
    await server.post('/api/v1/sync/resume')
    expect(errors).toEqual([])
    await context.close()
  }, 120_000)
})
