import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays, localDate } from '../../server/calendar/days.ts'
import { horizonAt } from '../../server/calendar/horizon.ts'
import { startSandbox, type Sandbox } from '../../server/sandbox/server.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { startInstance, type Instance } from '../helpers/instance.ts'

// products.remove while the engine is fetching that very product, against
// the real HTTP sandbox: from the moment the call returns nothing for it
// reaches the partner, nothing of it is left in any table, reads answer 404;
// adding it back starts from nothing.
const ADMIN = 'remove-live-admin'
const P = 15
let db: TestDatabase
let sandbox: Sandbox
let server: Instance

beforeAll(async () => {
  db = await createTestDatabase()
  sandbox = await startSandbox({ products: 0, rateLimitPerMinute: 100_000 })
  // 600/min: about 10 requests a second, so the removal lands while product 15's run is under way.
  server = await startInstance({
    DATABASE_URL: db.url,
    PARTNER_BASE_URL: sandbox.url,
    PARTNER_API_KEY: sandbox.apiKey,
    ADMIN_TOKEN: ADMIN,
    SYNC_PRODUCT_IDS: '14,15',
    PARTNER_RATE_LIMIT_PER_MINUTE: '600',
    API_CACHE_TTL_MS: '0',
  })
}, 60_000)
afterAll(async () => {
  await server?.stop()
  await sandbox?.close()
  await db?.drop()
})

async function call(method: string, route: string, body?: unknown) {
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body the test inspects field by field, whatever the route answered
  return { status: res.status, body: (await res.json()) as any }
}
const requestsFor = (productId: number) =>
  Object.entries(sandbox.stats().perProductDate)
    .filter(([k]) => k.startsWith(`${productId}/`))
    .reduce((n, [, c]) => n + c, 0)
/** Days of the horizon the sandbox served for the product at or after `since`, with when. */
function servedSince(productId: number, since: number, first: string, last: string): { date: string; at: number }[] {
  const out: { date: string; at: number }[] = []
  for (let d = first; d <= last; d = addDays(d, 1)) {
    const s = sandbox.lastServed(productId, d)
    if (s && s.at >= since) out.push({ date: d, at: s.at })
  }
  return out
}
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now()
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
/** Rows mentioning the product in every table that has a product_id column (whatever later migrations add), plus the product row. */
async function leftovers(productId: number): Promise<Record<string, number>> {
  const tables = await db.prisma.$queryRawUnsafe<{ table_name: string }[]>(
    `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'product_id' ORDER BY table_name`,
  )
  const out: Record<string, number> = {}
  for (const { table_name } of tables)
    out[table_name] = (
      await db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM "${table_name}" WHERE product_id = $1`, productId)
    )[0]!.n
  out.product = (await db.prisma.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM product WHERE id = $1', productId))[0]!.n
  out.pax_availability = (
    await db.prisma.$queryRawUnsafe<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM pax_availability p JOIN slot s ON s.id = p.slot_id WHERE s.product_id = $1',
      productId,
    )
  )[0]!.n
  return out
}

describe('products.remove under a running engine', () => {
  it('stops requests at once, leaves nothing behind, answers 404, and a re-add starts clean', { timeout: 60_000 }, async () => {
    await until(
      'some days of product 15 stored',
      async () => (await db.prisma.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM slot WHERE product_id = $1', P))[0]!.n > 0,
    )
    // Queue every day of 15 at top priority, so its requests are going out when it is removed.
    expect((await call('POST', '/api/v1/sync/run', { productId: P })).status).toBe(200)
    const atRun = requestsFor(P)
    await until('requests for 15 flowing', () => requestsFor(P) >= atRun + 3)

    const removed = await call('DELETE', `/api/v1/products/${P}`)
    const atReturn = requestsFor(P)
    expect(removed).toEqual({ status: 200, body: { removed: P } })
    // A request sent before the call returned may still be on the wire; give it a moment to arrive.
    await new Promise((r) => setTimeout(r, 100))
    const settled = requestsFor(P)
    const other = requestsFor(14)
    // Two seconds of a running engine (with 15's run still queued before the removal) later:
    await new Promise((r) => setTimeout(r, 2_000))
    expect({ atReturn, settled, after: requestsFor(P) }).toEqual({ atReturn, settled, after: settled })
    // ...while the engine kept working for the others (14 is refreshed by the planner or idle, never blocked).
    expect(requestsFor(14)).toBeGreaterThanOrEqual(other)

    const left = await leftovers(P)
    expect(
      Object.values(left).every((n) => n === 0),
      JSON.stringify(left),
    ).toBe(true)
    for (const route of [`/api/v1/experience/${P}/dates`, `/api/v1/experience/${P}/slots?date=${localDate(Date.now(), 'Asia/Singapore')}`]) {
      const r = await fetch(`${server.url}${route}`)
      expect(r.status, route).toBe(404)
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
    }
    expect((await call('GET', '/api/v1/products')).body.products.map((p: { id: number }) => p.id)).toEqual([14])

    const readdedAt = Date.now()
    const back = await call('PUT', `/api/v1/products/${P}`, {})
    expect(back.body).toMatchObject({ id: P, lastSuccessAt: null, lastError: null })
    // Clean: every stored day, slot and event of 15 is from after the re-add (the engine may already be at it again).
    const old = await db.prisma.$queryRawUnsafe<{ n: number }[]>(
      `SELECT (SELECT count(*) FROM slot WHERE product_id = $1 AND fetched_at < $2)::int
            + (SELECT count(*) FROM change_event WHERE product_id = $1 AND created_at < $2)::int
            + (SELECT count(*) FROM day_fetch_state WHERE product_id = $1 AND last_attempt_at < $2)::int AS n`,
      P,
      new Date(readdedAt - 5),
    )
    expect(old[0]!.n).toBe(0)
    await until(
      'the re-added product fetched again',
      async () => (await db.prisma.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM slot WHERE product_id = $1', P))[0]!.n > 0,
    )
    expect(requestsFor(P)).toBeGreaterThan(settled)
    // Today first: of the days the partner served for 15 since the re-add, today's came earliest.
    const { today, last } = horizonAt(Date.now(), 'Asia/Singapore')
    await until('a few days of 15 served again', () => servedSince(P, readdedAt, today, last).length >= 3)
    const served = servedSince(P, readdedAt, today, last).sort((x, y) => x.at - y.at)
    expect(served[0]!.date).toBe(today)
  })
})
