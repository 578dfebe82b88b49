import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { ADMIN_TOKEN, createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { rawSlot } from '../helpers/partner-data.ts'

// Catalogue management through both faces on real Postgres: auth, validation
// in the standard error shape, upsert's horizon rows, remove's clean sweep.
const TZ = 'Asia/Singapore'
const NOW = zonedTimeToInstant('2026-12-01', '09:00', TZ)
let api: TestApi
beforeAll(async () => {
  api = await createTestApi({ now: NOW })
  await api.listen()
})
afterAll(async () => api?.close())

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
async function rest(method: string, route: string, body?: unknown, headers: Record<string, string> = auth) {
  const res = await fetch(`${api.url}${route}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body the test inspects field by field, whatever the route answered
  return { status: res.status, body: (await res.json()) as any }
}
async function count(table: string, productId: number): Promise<number> {
  const sql =
    table === 'pax_availability'
      ? 'SELECT count(*)::int AS n FROM pax_availability p JOIN slot s ON s.id = p.slot_id WHERE s.product_id = $1'
      : table === 'product'
        ? 'SELECT count(*)::int AS n FROM product WHERE id = $1'
        : `SELECT count(*)::int AS n FROM ${table} WHERE product_id = $1`
  return (await api.db.prisma.$queryRawUnsafe<{ n: number }[]>(sql, productId))[0]!.n
}

describe('without the admin token', () => {
  it.each([
    ['GET', '/api/v1/products'],
    ['PUT', '/api/v1/products/500'],
    ['DELETE', '/api/v1/products/500'],
  ])('%s %s answers 401 in the standard shape', async (method, route) => {
    const r = await rest(method, route, undefined, {})
    expect(r.status).toBe(401)
    expect(r.body.error.code).toBe('UNAUTHORIZED')
    expect(await count('product', 500)).toBe(0)
  })
  it('a wrong token is refused too, even with bad input (auth is checked first)', async () => {
    expect((await rest('PUT', '/api/v1/products/abc', { timeZone: 'Nowhere/Else' }, { authorization: 'Bearer nope' })).status).toBe(401)
  })
})

describe('PUT /api/v1/products/:id', () => {
  it('adds a product with its 60 horizon days due now, today first among them', async () => {
    const r = await rest('PUT', '/api/v1/products/501', { timeZone: 'Asia/Tokyo' })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ id: 501, timeZone: 'Asia/Tokyo', paused: false, lastSuccessAt: null, lastError: null })
    expect(Date.parse(r.body.addedAt)).not.toBeNaN()
    const rows = await api.db.prisma.$queryRawUnsafe<{ first: string; last: string; n: number; due: Date }[]>(
      'SELECT min(date)::text AS first, max(date)::text AS last, count(*)::int AS n, max(next_due_at) AS due FROM day_fetch_state WHERE product_id = 501',
    )
    // 09:00 in Singapore is 10:00 in Tokyo, the same day.
    expect(rows[0]).toMatchObject({ first: '2026-12-01', last: '2027-01-29', n: 60 })
    expect(rows[0]!.due.getTime()).toBeLessThanOrEqual(NOW)
  })

  it('is idempotent: the same call again changes nothing', async () => {
    const first = await rest('PUT', '/api/v1/products/502', {})
    const again = await rest('PUT', '/api/v1/products/502')
    expect(again.status).toBe(200)
    expect(again.body).toEqual(first.body)
    expect(first.body.timeZone).toBe(TZ)
    expect(await count('day_fetch_state', 502)).toBe(60)
    const rows = await api.db.prisma.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM product WHERE id = 502')
    expect(rows[0]!.n).toBe(1)
  })

  it('changes the time zone of an existing product', async () => {
    await rest('PUT', '/api/v1/products/503', {})
    const r = await rest('PUT', '/api/v1/products/503', { timeZone: 'Europe/Paris' })
    expect(r.body.timeZone).toBe('Europe/Paris')
  })

  it.each([
    [{ timeZone: 'Mars/Olympus_Mons' }, 'timeZone'],
    [{ timeZone: '' }, 'timeZone'],
    [{ timeZone: 42 }, 'timeZone'],
    [{ timezone: 'Asia/Tokyo' }, 'timezone'],
    [[1, 2], 'body'],
  ])('bad body %j → 400 naming %s', async (body, field) => {
    const r = await rest('PUT', '/api/v1/products/504', body)
    expect(r.status).toBe(400)
    expect(r.body.error).toMatchObject({ code: 'BAD_REQUEST', field })
    expect(r.body.error.message).toContain(field)
    expect(await count('product', 504)).toBe(0)
  })

  it.each(['abc', '0', '-1', '99999999999'])('bad id %s → 400 naming id', async (id) => {
    const r = await rest('PUT', `/api/v1/products/${id}`, {})
    expect(r.status).toBe(400)
    expect(r.body.error).toMatchObject({ code: 'BAD_REQUEST', field: 'id' })
  })

  it('malformed JSON → 400 naming body', async () => {
    const r = await rest('PUT', '/api/v1/products/504', '{"timeZone":')
    expect(r.status).toBe(400)
    expect(r.body.error.code).toBe('BAD_REQUEST')
  })
})

describe('DELETE /api/v1/products/:id', () => {
  it('an unknown product answers 404 in the standard shape', async () => {
    const r = await rest('DELETE', '/api/v1/products/999')
    expect(r.status).toBe(404)
    expect(r.body.error.code).toBe('NOT_FOUND')
  })

  it('deletes the product and everything stored for it; its reads answer 404; re-adding starts clean', async () => {
    await rest('PUT', '/api/v1/products/510', {})
    const D = '2026-12-02'
    await seedDay(api.db, 510, D, [rawSlot(D, '04:00'), rawSlot(D, '05:00')], new Date(NOW - 60_000))
    await api.db.prisma.$executeRawUnsafe(`INSERT INTO partner_request (instance_id, product_id, date, status) VALUES ('x', 510, $1::date, 200)`, D)
    expect(await count('slot', 510)).toBe(2)
    expect(await count('change_event', 510)).toBe(1)
    expect((await rest('GET', `/api/v1/experience/510/slots?date=${D}`, undefined, {})).status).toBe(200)

    const r = await rest('DELETE', '/api/v1/products/510')
    expect(r).toEqual({ status: 200, body: { removed: 510 } })
    for (const table of ['product', 'slot', 'pax_availability', 'day_fetch_state', 'change_event', 'partner_request'])
      expect(await count(table, 510), table).toBe(0)
    // The budget's window still counts the request; it only forgets the product.
    const rows = await api.db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM partner_request WHERE instance_id = 'x'`)
    expect(rows[0]!.n).toBe(1)
    for (const route of [`/api/v1/experience/510/slots?date=${D}`, '/api/v1/experience/510/dates']) {
      const read = await rest('GET', route, undefined, {})
      expect(read.status, route).toBe(404)
      expect(read.body.error.code).toBe('NOT_FOUND')
    }
    expect((await rest('DELETE', '/api/v1/products/510')).status).toBe(404)

    const back = await rest('PUT', '/api/v1/products/510', {})
    expect(back.body).toMatchObject({ id: 510, lastSuccessAt: null, lastError: null })
    expect(await count('slot', 510)).toBe(0)
    expect(await count('change_event', 510)).toBe(0)
    const fresh = await api.db.prisma.$queryRawUnsafe<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM day_fetch_state WHERE product_id = 510 AND last_attempt_at IS NULL',
    )
    expect(fresh[0]!.n).toBe(60)
  })
})

describe('GET /api/v1/products', () => {
  it('lists every product with its last success and last error', async () => {
    await rest('PUT', '/api/v1/products/520', {})
    const D = '2026-12-03'
    await seedDay(api.db, 520, D, [rawSlot(D, '04:00')], new Date(NOW - 120_000))
    await api.db.prisma.$executeRawUnsafe(
      `UPDATE day_fetch_state SET last_error = 'HTTP 503', last_attempt_at = $2 WHERE product_id = 520 AND date = $1::date + 1`,
      D,
      new Date(NOW - 30_000),
    )
    const r = await rest('GET', '/api/v1/products')
    expect(r.status).toBe(200)
    const p = r.body.products.find((x: { id: number }) => x.id === 520)
    expect(p).toMatchObject({ id: 520, timeZone: TZ, paused: false, lastSuccessAt: new Date(NOW - 120_000).toISOString(), lastError: 'HTTP 503' })
    const ids = r.body.products.map((x: { id: number }) => x.id)
    expect(ids).toEqual([...ids].sort((a: number, b: number) => a - b))
  })
})
