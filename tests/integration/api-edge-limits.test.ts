import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAvailabilityService } from '../../server/availability/service.ts'
import { octoRoutes } from '../../server/octo/routes.ts'
import { ADMIN_TOKEN, createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { rawSlot } from '../helpers/partner-data.ts'

// TRPC_MAX_BATCH, the read allowance counted per procedure, and
// AUTH_FAILURES_PER_MINUTE, on a real server over Postgres.
const NOW = Date.parse('2026-12-01T00:00:00Z')
const OCTO_KEY = 'octo-edge-key'

let api: TestApi
beforeAll(async () => {
  api = await createTestApi({ now: NOW, trustProxy: true, edge: { authFailuresPerMinute: 3 }, rateLimitPerMinute: 10 })
  // The OCTO face shares the API's guard, as server.ts wires it.
  await api.app.register(octoRoutes, {
    availability: createAvailabilityService({ prisma: api.db.prisma, clock: api.clock, defaultTimeZone: 'Asia/Singapore' }),
    apiKeys: [OCTO_KEY],
    publicUrl: 'http://slotsync.test',
    authGuard: api.authGuard,
  })
  await api.listen()
  await api.db.prisma.product.create({ data: { id: 7 } })
  await seedDay(api.db, 7, '2026-12-03', [rawSlot('2026-12-03', '10:00')], new Date(NOW))
})
afterAll(async () => api?.close())

let nextIp = 1
/** A fresh client address (TRUST_PROXY on): each test gets its own allowances. */
const client = () => `198.51.100.${nextIp++}`
const batch = (path: string, n: number) => `/trpc/${Array(n).fill(path).join(',')}?batch=1`
const get = (url: string, ip: string, headers: Record<string, string> = {}) => fetch(api.url + url, { headers: { 'x-forwarded-for': ip, ...headers } })

describe('tRPC batch cap (TRPC_MAX_BATCH)', () => {
  it('50 procedures answer 200; 51 answer 400 in the standard shape naming the limit, GET and POST, before any procedure runs', async () => {
    const wide = await createTestApi({ db: api.db, now: NOW })
    try {
      await wide.listen()
      const ok = await fetch(wide.url + batch('health.live', 50))
      expect(ok.status).toBe(200)
      expect(await ok.json()).toHaveLength(50)
      for (const init of [{}, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }]) {
        const over = await fetch(wide.url + batch('sync.pause', 51), init)
        expect(over.status).toBe(400)
        expect(await over.json()).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/at most 50 procedures \(TRPC_MAX_BATCH\).*51/) } })
      }
    } finally {
      await wide.app.close()
    }
  })
})

describe('read allowance (API_RATE_LIMIT_PER_MINUTE = 10 here)', () => {
  it('a batch of N uses N: 6 then 4 fit, the next request is refused with Retry-After', async () => {
    const ip = client()
    const six = await get(batch('health.live', 6), ip)
    expect(six.status).toBe(200)
    expect(six.headers.get('x-ratelimit-remaining')).toBe('4')
    const tooBig = await get(batch('health.live', 5), ip)
    expect(tooBig.status).toBe(429)
    expect(Number(tooBig.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await tooBig.json()).toEqual({ error: { code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/rate limit.*this batch needs 5, 4 left/) } })
    expect((await get(batch('health.live', 4), ip)).status).toBe(200)
    expect((await get('/api/v1/experience/7/dates', ip)).status).toBe(429)
  })
})

describe('failed authentications (AUTH_FAILURES_PER_MINUTE = 3 here)', () => {
  it('REST and tRPC admin failures: 401 up to the allowance, then 429 with Retry-After (even with the right token), while public reads still answer', async () => {
    const ip = client()
    const wrong = { authorization: 'Bearer not-the-token' }
    const pause = (headers: Record<string, string>) => fetch(`${api.url}/api/v1/sync/pause`, { method: 'POST', headers: { 'x-forwarded-for': ip, ...headers } })
    const statuses: number[] = []
    for (let i = 0; i < 2; i++) statuses.push((await pause(wrong)).status)
    statuses.push(
      (await fetch(`${api.url}/trpc/sync.pause`, { method: 'POST', headers: { 'x-forwarded-for': ip, 'content-type': 'application/json', ...wrong } })).status,
    )
    // Twelve more guesses: more than the whole read allowance of 10, had they counted against it.
    for (let i = 0; i < 12; i++) statuses.push((await pause(wrong)).status)
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401])
    expect(new Set(statuses.slice(3))).toEqual(new Set([429]))

    const blocked = await pause({ authorization: `Bearer ${ADMIN_TOKEN}` })
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await blocked.json()).toEqual({
      error: { code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/failed authentications.*AUTH_FAILURES_PER_MINUTE/) },
    })
    const trpcBlocked = await fetch(`${api.url}/trpc/products.list`, { headers: { 'x-forwarded-for': ip, authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(trpcBlocked.status).toBe(429)
    expect(trpcBlocked.headers.get('retry-after')).not.toBeNull()
    expect((await get('/api/v1/products', ip, { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(429)

    // The same address's public reads, as the dashboard makes them.
    for (const url of ['/api/v1/experience/7/dates', '/api/v1/sync/status', '/api/v1/sync/freshness', '/trpc/sync.budgetHistory']) {
      expect([url, (await get(url, ip)).status]).toEqual([url, 200])
    }
    // Another address is not affected.
    expect(
      (await fetch(`${api.url}/api/v1/sync/pause`, { method: 'POST', headers: { 'x-forwarded-for': client(), authorization: `Bearer ${ADMIN_TOKEN}` } }))
        .status,
    ).toBe(200)
  })

  it('no token at all is an ordinary 401, not a failed guess', async () => {
    const ip = client()
    for (let i = 0; i < 5; i++) expect((await fetch(`${api.url}/api/v1/sync/resume`, { method: 'POST', headers: { 'x-forwarded-for': ip } })).status).toBe(401)
    expect(
      (await fetch(`${api.url}/api/v1/sync/resume`, { method: 'POST', headers: { 'x-forwarded-for': ip, authorization: `Bearer ${ADMIN_TOKEN}` } })).status,
    ).toBe(200)
  })

  it('OCTO key failures count in the same allowance and answer 429 in the OCTO shape', async () => {
    const ip = client()
    const octo = (key: string) => get('/octo/supplier', ip, { authorization: `Bearer ${key}` })
    expect((await fetch(`${api.url}/api/v1/sync/pause`, { method: 'POST', headers: { 'x-forwarded-for': ip, authorization: 'Bearer guess' } })).status).toBe(
      401,
    )
    expect([(await octo('guess-1')).status, (await octo('guess-2')).status]).toEqual([401, 401])
    const blocked = await octo(OCTO_KEY)
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await blocked.json()).toEqual({ error: 'TOO_MANY_REQUESTS', errorMessage: expect.stringMatching(/failed authentications/) })
    expect((await get('/api/v1/experience/7/dates', ip)).status).toBe(200)
    expect((await get('/octo/supplier', client(), { authorization: `Bearer ${OCTO_KEY}`, host: 'evil.example' })).status).toBe(200)
  })
})
