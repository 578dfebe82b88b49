import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { AUDIT_MAX_ROWS } from '../../server/audit/service.ts'
import type { Logger } from '../../server/logger.ts'
import { ADMIN_TOKEN, createTestApi, type TestApi } from '../helpers/api.ts'

// The audit trail on real Postgres through both faces: what is recorded
// (who, what, target, when, which request), what is not (refused requests),
// the log record beside each row, the query's limits, and retention.
const TZ = 'Asia/Singapore'
const NOW = zonedTimeToInstant('2026-12-01', '09:00', TZ)
const TOKEN_ID = createHash('sha256').update(ADMIN_TOKEN).digest('hex').slice(0, 8)
const logged: { o: Record<string, unknown>; m: string | undefined }[] = []
const recorder: Logger = { debug() {}, info: (o, m) => void logged.push({ o: o as Record<string, unknown>, m }), warn() {}, error() {} }

let api: TestApi
beforeAll(async () => {
  api = await createTestApi({ now: NOW, logger: recorder })
  await api.listen()
})
afterAll(async () => api?.close())

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
async function call(method: string, route: string, body?: unknown, headers: Record<string, string> = auth) {
  const res = await fetch(`${api.url}${route}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body the test inspects field by field
  return { status: res.status, requestId: res.headers.get('x-request-id'), text, body: JSON.parse(text) as any }
}
const audit = async (limit = 50) => (await call('GET', `/api/v1/audit?limit=${limit}`)).body.actions as Record<string, unknown>[]

describe('an admin action', () => {
  it('is stored with who (the token id, not the token), what, target, when and the request id, and logged once', async () => {
    logged.length = 0
    const pause = await call('POST', '/api/v1/sync/pause')
    expect(pause.status).toBe(200)
    expect(pause.requestId).toMatch(/^[0-9a-f-]{36}$/)
    const [last] = await audit(1)
    expect(last).toEqual({ at: new Date(NOW).toISOString(), action: 'sync.pause', target: 'all', tokenId: TOKEN_ID, requestId: pause.requestId })
    const records = logged.filter((l) => l.m === 'admin action')
    expect(records).toEqual([{ m: 'admin action', o: { action: 'sync.pause', target: 'all', tokenId: TOKEN_ID, requestId: pause.requestId } }])
  })

  it('every kind is recorded, through REST and tRPC alike, newest first', async () => {
    await call('POST', '/api/v1/sync/resume', { productId: 14 })
    await call('POST', '/api/v1/sync/run', { productId: 14, from: '2026-12-02', to: '2026-12-04' })
    expect((await call('PUT', '/api/v1/products/501', { timeZone: 'Europe/Paris' })).status).toBe(200)
    expect((await call('DELETE', '/api/v1/products/501')).status).toBe(200)
    const trpc = await call('POST', '/trpc/sync.pause', { json: { productId: 14 } })
    expect(trpc.status).toBe(200)
    const actions = await audit(5)
    expect(actions.map((a) => [a.action, a.target])).toEqual([
      ['sync.pause', 'product 14'],
      ['products.remove', 'product 501'],
      ['products.upsert', 'product 501 (Europe/Paris)'],
      ['sync.run', 'product 14 2026-12-02..2026-12-04'],
      ['sync.resume', 'product 14'],
    ])
    expect(actions[0]!.requestId).toBe(trpc.requestId)
    expect(new Set(actions.map((a) => a.requestId)).size).toBe(5)
  })

  it('a global resume that lifts a partner halt records the lifted halt too', async () => {
    const until = new Date(NOW + 120_000)
    await api.db.prisma.syncControl.update({ where: { id: 1 }, data: { haltedUntil: until } })
    const r = await call('POST', '/api/v1/sync/resume')
    expect(r.status).toBe(200)
    const [cleared, resumed] = await audit(2)
    expect(resumed).toMatchObject({ action: 'sync.resume', target: 'all', requestId: r.requestId })
    expect(cleared).toMatchObject({ action: 'sync.halt_cleared', target: `partner (rate-limit halt until ${until.toISOString()})`, requestId: r.requestId })
  })

  it('a refused request (no token, wrong token, bad input, unknown product) records nothing', async () => {
    const before = (await audit(1))[0]
    expect((await call('POST', '/api/v1/sync/pause', undefined, {})).status).toBe(401)
    expect((await call('POST', '/api/v1/sync/pause', undefined, { authorization: 'Bearer wrong' })).status).toBe(401)
    expect((await call('POST', '/api/v1/sync/run', { from: 'soon' })).status).toBe(400)
    expect((await call('DELETE', '/api/v1/products/999999')).status).toBe(404)
    expect((await audit(1))[0]).toEqual(before)
  })

  it('the trail never contains the token itself', async () => {
    const all = await call('GET', '/api/v1/audit?limit=500')
    expect(all.text).not.toContain(ADMIN_TOKEN)
    expect(JSON.stringify(logged)).not.toContain(ADMIN_TOKEN)
  })
})

describe('GET /api/v1/audit', () => {
  it('needs the admin token', async () => {
    expect((await call('GET', '/api/v1/audit', undefined, {})).status).toBe(401)
    expect((await call('GET', '/trpc/admin.audit', undefined, {})).status).toBe(401)
  })

  it.each(['0', '501', 'abc', '2.5', '-1'])('limit=%s answers 400 naming limit', async (limit) => {
    const r = await call('GET', `/api/v1/audit?limit=${limit}`)
    expect(r.status).toBe(400)
    expect(r.body.error).toMatchObject({ code: 'BAD_REQUEST', field: 'limit' })
  })

  it('answers at most `limit` actions, 50 by default; tRPC admin.audit answers the same', async () => {
    expect(await audit(2)).toHaveLength(2)
    const dflt = await call('GET', '/api/v1/audit')
    expect(dflt.body.actions.length).toBeGreaterThan(2)
    expect(dflt.body.actions.length).toBeLessThanOrEqual(50)
    const trpc = await call('GET', `/trpc/admin.audit?input=${encodeURIComponent(JSON.stringify({ json: { limit: 3 } }))}`)
    expect(trpc.body.result.data.json).toEqual({ actions: await audit(3) })
  })
})

describe('retention', () => {
  it('rows older than 90 days, and beyond the newest 100,000, are deleted as actions are recorded', async () => {
    const fresh = await createTestApi({ now: NOW })
    try {
      const day = 86_400_000
      // Each rule alone removes one row: the first by the cap (it is recent), the second by age.
      await fresh.db.prisma.adminAction.createMany({
        data: [
          { at: new Date(NOW - day), action: 'sync.pause', target: 'all', tokenId: 'capped00' },
          { at: new Date(NOW - 91 * day), action: 'sync.pause', target: 'all', tokenId: 'tooold00' },
          { at: new Date(NOW - 89 * day), action: 'sync.pause', target: 'all', tokenId: 'kept0000' },
        ],
      })
      // The next row's id is AUDIT_MAX_ROWS + 1: only the first row is more than AUDIT_MAX_ROWS behind it.
      await fresh.db.prisma.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('admin_action', 'id'), ${AUDIT_MAX_ROWS})`)
      expect((await fresh.app.inject({ method: 'POST', url: '/api/v1/sync/pause', headers: auth })).statusCode).toBe(200)
      const rows = await fresh.db.prisma.adminAction.findMany({ orderBy: { id: 'asc' } })
      expect(rows.map((r) => r.tokenId)).toEqual(['kept0000', TOKEN_ID])
    } finally {
      await fresh.close()
    }
  })
})
