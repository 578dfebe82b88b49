import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SyncStatusView } from '../../server/api/services.ts'
import { loadConfig } from '../../server/config.ts'
import { dashboardDir } from '../../server/observability/routes.ts'
import { createServer, type SlotsyncServer } from '../../server/server.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { parseExposition, sampleValue } from '../helpers/prometheus.ts'
import { captureLogStream, waitFor } from '../helpers/reliability-server.ts'

// The whole service in-process (createServer, real database, real HTTP
// sandbox): /metrics after real requests, and the dashboard's files.
const ADMIN = 'observability-test-token'
let db: TestDatabase
let server: SlotsyncServer
let url: string

beforeAll(async () => {
  db = await createTestDatabase()
  const config = loadConfig({
    PORT: '0',
    DATABASE_URL: db.url,
    ADMIN_TOKEN: ADMIN,
    LOG_LEVEL: 'warn',
    SANDBOX_PRODUCTS: '0',
    PARTNER_RATE_LIMIT_PER_MINUTE: '6000',
    SANDBOX_RATE_LIMIT_PER_MINUTE: '6000',
  })
  server = createServer(config, { logStream: captureLogStream().stream })
  ;({ url } = await server.start())
})
afterAll(async () => {
  await server?.stop()
  await db?.drop()
})

const status = async () => (await (await fetch(`${url}/api/v1/sync/status`)).json()) as SyncStatusView
async function metrics() {
  const res = await fetch(`${url}/metrics`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseExposition(await res.text())
}

describe('/metrics on the running service', () => {
  it('counts API requests by route pattern and status, never by raw URL, with durations', async () => {
    const calls: [string, number][] = [
      ['/api/v1/experience/14/dates', 200],
      ['/api/v1/experience/14/dates', 200],
      ['/api/v1/experience/abc/dates', 400],
      ['/api/v1/experience/999999/dates', 404],
      ['/no/such/route?secret=1', 404],
      ['/trpc/sync.status', 200],
    ]
    for (const [path, expected] of calls) expect((await fetch(url + path)).status, path).toBe(expected)
    const f = await metrics()
    const req = (route: string, status: string) => sampleValue(f, 'slotsync_api_requests_total', { route, method: 'GET', status })
    expect(req('/api/v1/experience/:id/dates', '200')).toBe(2)
    expect(req('/api/v1/experience/:id/dates', '400')).toBe(1)
    expect(req('/api/v1/experience/:id/dates', '404')).toBe(1)
    expect(req('unmatched', '404')).toBe(1)
    expect(req('/trpc/:path', '200')).toBeGreaterThanOrEqual(1)
    expect(sampleValue(f, 'slotsync_api_request_duration_seconds_count', { route: '/api/v1/experience/:id/dates', method: 'GET' })).toBe(4)
    const labelValues = f.get('slotsync_api_requests_total')!.samples.flatMap((s) => Object.values(s.labels))
    for (const raw of ['999999', 'abc', '/no/such', 'secret']) expect(labelValues.join(' ')).not.toContain(raw)
  })

  it('shows no secret: neither the admin token nor the partner key', async () => {
    const body = await (await fetch(`${url}/metrics`)).text()
    expect(body).toContain('slotsync_sync_pairs')
    for (const secret of [ADMIN, 'sandbox-key']) expect(body).not.toContain(secret)
  })

  it('the engine reports each partner request and pass through the observer', async () => {
    // The status behind the gauges is shared for API_CACHE_TTL_MS: wait for a scrape that saw fetched days.
    const f = await waitFor('a scrape with fetched days', async () => {
      const f = await metrics()
      return sampleValue(f, 'slotsync_sync_never_fetched_pairs')! < 120 ? f : undefined
    })
    const ok = sampleValue(f, 'slotsync_partner_requests_total', { outcome: 'ok' })! + sampleValue(f, 'slotsync_partner_requests_total', { outcome: 'empty' })!
    expect(ok).toBeGreaterThan(0)
    // Every request counted is in the latency histogram too.
    const all = ['ok', 'empty', 'error', 'invalid', 'rate_limited'].reduce(
      (a, outcome) => a + sampleValue(f, 'slotsync_partner_requests_total', { outcome })!,
      0,
    )
    expect(sampleValue(f, 'slotsync_partner_request_duration_seconds_count')).toBe(all)
    expect(sampleValue(f, 'slotsync_sync_pass_duration_seconds_count')).toBeGreaterThan(0)
  })

  it('sync gauges equal sync status (sync paused so neither moves)', async () => {
    await waitFor('some days fetched', async () => ((await status()).neverFetched < 120 ? true : undefined))
    const pause = await fetch(`${url}/api/v1/sync/pause`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } })
    expect(pause.status).toBe(200)
    await waitFor('in-flight fetches written', async () => ((await status()).inFlight === 0 ? true : undefined))
    const f = await metrics()
    const s = await status()
    expect(sampleValue(f, 'slotsync_sync_status_up')).toBe(1)
    expect(sampleValue(f, 'slotsync_sync_paused')).toBe(1)
    expect(sampleValue(f, 'slotsync_sync_never_fetched_pairs')).toBe(s.neverFetched)
    expect(sampleValue(f, 'slotsync_products', { state: 'active' })).toBe(2)
    expect(sampleValue(f, 'slotsync_partner_budget_limit_requests')).toBe(6000)
    for (const [tier, c] of Object.entries(s.tiers)) {
      for (const state of ['fresh', 'due', 'overdue'] as const)
        expect(sampleValue(f, 'slotsync_sync_pairs', { tier, state }), `${tier} ${state}`).toBe(c[state])
      // Per-tier oldest age: present exactly for the tiers with a fetched day.
      if (c.oldestFetchedAt) expect(sampleValue(f, 'slotsync_sync_oldest_age_seconds', { tier }), tier).toBeGreaterThanOrEqual(0)
      else expect(sampleValue(f, 'slotsync_sync_oldest_age_seconds', { tier }), tier).toBeUndefined()
    }
    expect(Object.values(s.tiers).some((t) => t.oldestFetchedAt)).toBe(true)
    expect(Object.values(s.tiers).reduce((a, t) => a + t.total, 0)).toBe(120)
    expect(sampleValue(f, 'slotsync_sync_oldest_served_age_seconds')).toBeGreaterThan(0)
  })
})

describe('the dashboard is served at /', () => {
  it('its files are found from source and from a compiled build’s folder', () => {
    const fromSource = dashboardDir()
    expect(fromSource.pathname).toMatch(/\/server\/observability\/dashboard\/$/)
    expect(dashboardDir(new URL('dist/server/', new URL('../..', import.meta.url))).pathname).toBe(fromSource.pathname)
    expect(() => dashboardDir(new URL('file:///tmp/'))).toThrow(/server\/observability\/dashboard/)
  })

  it('an HTML page whose script and style come from this server, under the security headers', async () => {
    const page = await fetch(`${url}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    const html = await page.text()
    // Relative, so the page works under a proxy's path prefix too.
    expect(html).toContain('<script src="dashboard.js" defer></script>')
    const js = await fetch(`${url}/dashboard.js`)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await js.text()).toContain("getJson('api/v1/sync/status')")
    expect((await fetch(`${url}/dashboard.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8')
  })
})
