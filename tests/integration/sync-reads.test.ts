import { createTRPCClient, httpLink } from '@trpc/client'
import superjson from 'superjson'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppRouter } from '../../server/api/routers/index.ts'
import { budgetHistorySchema, freshnessGridSchema } from '../../server/api/sync-read-schemas.ts'
import { createTestApi, type TestApi } from '../helpers/api.ts'

// The dashboard's reads on a real database: the freshness grid (products ×
// 14 days, each in the product's own calendar) and the budget's last hour.
const NOW = Date.parse('2026-12-01T12:00:30.000Z')
let api: TestApi
let base: string

beforeAll(async () => {
  api = await createTestApi({ now: NOW })
  base = await api.listen()
  const q = (sql: string, params: unknown[] = []) => api.db.prisma.$executeRawUnsafe(sql, ...params)
  // 12:00 UTC: already Dec 2 at UTC+14, still Dec 1 at UTC-11.
  await q(`INSERT INTO product (id, time_zone, paused, active) VALUES
           (14, 'Pacific/Kiritimati', false, true), (15, 'Pacific/Pago_Pago', true, true),
           (16, 'Asia/Singapore', false, true), (17, 'Asia/Singapore', false, false)`)
  const row = (id: number, date: string, fetched: string | null, failures = 0) =>
    q(`INSERT INTO day_fetch_state (product_id, date, last_fetched_at, consecutive_failures, next_due_at) VALUES ($1, $2, $3, $4, now())`, [
      id,
      date,
      fetched,
      failures,
    ])
  await row(14, '2026-12-01', '2026-11-30T00:00:00.000Z') // yesterday there: not in the grid
  await row(14, '2026-12-02', '2026-12-01T11:50:00.000Z')
  await row(14, '2026-12-05', null, 2)
  await row(14, '2026-12-15', '2026-12-01T11:00:00.000Z') // today + 13 there
  await row(14, '2026-12-16', '2026-12-01T11:00:00.000Z') // today + 14: beyond the grid
  await row(15, '2026-12-01', '2026-12-01T06:00:00.000Z')
  await row(15, '2026-12-02', '2026-12-01T07:00:00.000Z', 1)
  await row(17, '2026-12-01', '2026-12-01T07:00:00.000Z')
  const sent = (iso: string, n = 1) => q(`INSERT INTO partner_request (sent_at, instance_id) SELECT $1, 'i' FROM generate_series(1, $2)`, [iso, n])
  await sent('2026-12-01T11:00:59.999Z') // minute 11:00: older than the hour shown
  await sent('2026-12-01T11:01:00.000Z', 2)
  await sent('2026-12-01T11:30:15.000Z', 30)
  await sent('2026-12-01T12:00:10.000Z', 3)
  await sent('2026-12-01T12:00:40.000Z') // after "now"
})
afterAll(async () => api?.close())

const trpc = () => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${base}/trpc`, transformer: superjson })] })
const getJson = async (path: string) => {
  const res = await fetch(base + path)
  expect(res.status).toBe(200)
  return res.json()
}

describe('sync.freshness', () => {
  it('active products × today..today+13 in each product’s zone, never-fetched as null, failing offsets, paused flag', async () => {
    const grid = freshnessGridSchema.parse(await getJson('/api/v1/sync/freshness'))
    expect(grid.at).toBe(new Date(NOW).toISOString())
    expect(grid.days).toBe(14)
    expect(grid.tiers.map((t) => t.name)).toEqual(['today', 'week', 'month', 'horizon'])
    expect(grid.tiers[0]).toEqual({ name: 'today', fromOffset: 0, toOffset: 0, targetSeconds: 900 })
    expect(grid.products.map((p) => p.productId)).toEqual([14, 15, 16])
    const [p14, p15, p16] = grid.products
    const n = (...set: [number, string][]) => {
      const a = Array<string | null>(14).fill(null)
      for (const [i, v] of set) a[i] = v
      return a
    }
    // Each cell's class by the one rule (tiers.ts freshnessClass): within the tier's target, up to twice it, beyond, never fetched.
    const state = (...set: [number, string][]) => n(...set).map((v) => v ?? 'never')
    expect(p14).toEqual({
      productId: 14,
      paused: false,
      today: '2026-12-02', // the cells' data-date on the dashboard start here
      fetchedAt: n([0, '2026-12-01T11:50:00.000Z'], [13, '2026-12-01T11:00:00.000Z']),
      failing: [3],
      state: state([0, 'fresh'], [13, 'fresh']), // 10 min against 15; 1 h against 24 h
    })
    expect(p15).toEqual({
      productId: 15,
      paused: true,
      today: '2026-12-01',
      fetchedAt: n([0, '2026-12-01T06:00:00.000Z'], [1, '2026-12-01T07:00:00.000Z']),
      failing: [1],
      state: state([0, 'overdue'], [1, 'due']), // 6 h against today's 15 min; 5 h against 4 h
    })
    expect(p16).toEqual({ productId: 16, paused: false, today: '2026-12-01', fetchedAt: n(), failing: [], state: state() })
  })

  it('REST and tRPC answer the same object', async () => {
    expect(await trpc().sync.freshness.query()).toEqual(await getJson('/api/v1/sync/freshness'))
  })
})

describe('sync.budgetHistory', () => {
  it('60 minutes oldest first, the current one last, counted from the request log', async () => {
    const h = budgetHistorySchema.parse(await getJson('/api/v1/sync/budget-history'))
    expect(h.minutes).toHaveLength(60)
    expect(h.minutes[0]).toEqual({ at: '2026-12-01T11:01:00.000Z', requests: 2 })
    expect(h.minutes[29]).toEqual({ at: '2026-12-01T11:30:00.000Z', requests: 30 })
    expect(h.minutes[59]).toEqual({ at: '2026-12-01T12:00:00.000Z', requests: 3 })
    expect(h.minutes.reduce((a, m) => a + m.requests, 0)).toBe(35)
    expect(await trpc().sync.budgetHistory.query()).toEqual(h)
  })

  it('both are documented in the OpenAPI document', async () => {
    const doc = (await getJson('/openapi.json')) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/sync/freshness', '/api/v1/sync/budget-history']))
  })
})
