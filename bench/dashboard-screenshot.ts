/**
 * `npm run docs:screenshot`: the README's dashboard pictures as a newcomer
 * sees them. Starts the compiled service as `npm start` does, with every
 * default (embedded Postgres in a fresh directory, the in-process sandbox's
 * 52 products, the partner limit of 30 a minute), opens the dashboard in
 * Debian's chromium at once and leaves it open (as someone who just ran
 * `npm start` would), and after `--after` seconds (default 180) writes
 * docs/dashboard.png (1280 px wide) and docs/dashboard-400.png (a 400 px
 * phone; it fails if that page scrolls sideways).
 *
 *   npm run docs:screenshot [-- --after 180 --out docs]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { chromium, type Page } from 'playwright-core'
import { startService } from './service-process.ts'

const CHROMIUM = '/usr/bin/chromium'
const { values } = parseArgs({ options: { after: { type: 'string', default: '180' }, out: { type: 'string', default: 'docs' } } })
const afterS = Number(values.after)
if (!Number.isFinite(afterS) || afterS < 0) throw new Error(`--after must be seconds, got ${values.after}`)
if (!fs.existsSync(CHROMIUM)) throw new Error(`needs Debian's chromium at ${CHROMIUM}: apt-get install -y chromium`)

const log = (line: string) => console.log(`[screenshot] ${line}`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const service = await startService({ env: {}, logFile: path.join(os.tmpdir(), `slotsync-screenshot-${process.pid}.log`), log })
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })

/** Opens the dashboard and waits for its reads (status, then the grid and the chart). */
async function open(width: number, height: number): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width, height } })).newPage()
  page.on('pageerror', (e) => log(`page error: ${e.message}`))
  await page.goto(`${service.base}/`)
  await page.waitForSelector('body[data-slow-loaded]')
  return page
}

try {
  const startedAt = Date.now()
  const desktop = await open(1280, 900)
  log(`dashboard open at ${service.base}/; waiting ${afterS} s`)
  await sleep(afterS * 1000)
  // Fresh grid and chart (they refresh every 15 s), then the next status.
  await desktop.reload()
  await desktop.waitForSelector('body[data-slow-loaded]')
  fs.mkdirSync(values.out, { recursive: true })
  const wide = path.join(values.out, 'dashboard.png')
  await desktop.screenshot({ path: wide, fullPage: true })

  const phone = await open(400, 800)
  const widths = (await phone.evaluate('({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })')) as { scroll: number; inner: number }
  if (widths.scroll > widths.inner) throw new Error(`at 400 px the page scrolls sideways (scrollWidth ${widths.scroll} > ${widths.inner})`)
  const narrow = path.join(values.out, 'dashboard-400.png')
  await phone.screenshot({ path: narrow, fullPage: true })

  const status = (await (await fetch(`${service.base}/api/v1/sync/status`)).json()) as {
    firstPass: { pairs: number; fetched: number; perMinute: number; pace: string; etaAt: string | null }
    products: { active: number }
    budget: { limitPerMinute: number }
  }
  const fp = status.firstPass
  log(
    `${((Date.now() - startedAt) / 60_000).toFixed(1)} min after start: ${status.products.active} products, limit ${status.budget.limitPerMinute}/min, ` +
      `${fp.fetched} of ${fp.pairs} days fetched, ${fp.perMinute}/min (${fp.pace}), eta ${fp.etaAt ?? '–'}`,
  )
  log(`wrote ${wide} and ${narrow}`)
} finally {
  await browser.close()
  await service.stop()
}
