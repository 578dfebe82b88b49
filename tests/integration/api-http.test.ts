import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client'
import superjson from 'superjson'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppRouter } from '../../server/api/routers/index.ts'
import { datesResultSchema, slotsResultSchema } from '../../server/api/schemas.ts'
import { createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { rawSlot } from '../helpers/partner-data.ts'

const NOW = Date.parse('2026-12-01T02:00:00Z')
const DAYS = ['2026-12-01', '2026-12-03', '2026-12-06', '2027-01-10']

let api: TestApi
let base: string
let trpc: ReturnType<typeof createTRPCClient<AppRouter>>

beforeAll(async () => {
  api = await createTestApi({ now: NOW })
  base = await api.listen()
  trpc = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${base}/trpc`, transformer: superjson })] })
  await api.db.prisma.product.createMany({ data: [{ id: 14 }, { id: 15 }] })
  for (const [i, d] of DAYS.entries()) {
    const slots = ['04:00', '04:30', '05:00'].map((t, j) =>
      rawSlot(d, t, {
        remaining: (i + j) % 3 === 0 ? 0 : 50,
        paxAvailability: [
          {
            type: 'ADULT_12~99',
            name: 'Adult',
            description: '',
            min: 1,
            max: 10,
            remaining: 5,
            price: { discount: 0, finalPrice: 100 + i * 10 + j * 0.25, originalPrice: 120, currencyCode: 'SGD' },
          },
          {
            type: 'CHILD_3~11',
            name: 'Child',
            description: '',
            min: 0,
            max: 10,
            remaining: 5,
            price: { discount: 0, finalPrice: 50, originalPrice: 50, currencyCode: 'SGD' },
          },
        ],
      }),
    )
    await seedDay(api.db, 14, d, slots, new Date(NOW - 60_000))
  }
})
afterAll(async () => api?.close())

const json = async (path: string) => {
  const res = await fetch(base + path)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body the test inspects field by field, whatever the route answered
  return { status: res.status, body: (await res.json()) as any, headers: res.headers }
}

describe('REST and tRPC return the same data', () => {
  it.each(DAYS.concat('2026-12-02'))('availability.slots on %s', async (date) => {
    const rest = await json(`/api/v1/experience/14/slots?date=${date}`)
    expect(rest.status).toBe(200)
    expect(await trpc.availability.slots.query({ productId: 14, date })).toEqual(rest.body)
  })

  it('availability.dates', async () => {
    const rest = await json('/api/v1/experience/14/dates')
    expect(rest.body.dates.length).toBeGreaterThan(0)
    expect(await trpc.availability.dates.query({ productId: 14 })).toEqual(rest.body)
  })

  // REST sends the stored JSON text inside its envelope (rest.ts): byte for byte what serializing the tRPC answer gives.
  it('REST bodies are exactly JSON.stringify of the tRPC answers, typed application/json', async () => {
    for (const [path, call] of [
      [`/api/v1/experience/14/slots?date=${DAYS[0]}`, () => trpc.availability.slots.query({ productId: 14, date: DAYS[0]! })],
      ['/api/v1/experience/14/slots?date=2026-12-02', () => trpc.availability.slots.query({ productId: 14, date: '2026-12-02' })],
      ['/api/v1/experience/14/dates', () => trpc.availability.dates.query({ productId: 14 })],
    ] as const) {
      const res = await fetch(base + path)
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(await res.text()).toBe(JSON.stringify(await call()))
    }
  })

  it('health.live and health.ready', async () => {
    expect(await trpc.health.live.query()).toEqual((await json('/health')).body)
    const ready = await json('/ready')
    expect(ready).toMatchObject({ status: 200, body: { ready: true, database: true, migrations: true } })
    expect(await trpc.health.ready.query()).toEqual(ready.body)
  })

  it('the same errors: code, status and message (REST names the path segment id)', async () => {
    const cases: [string, () => Promise<unknown>, number][] = [
      ['/api/v1/experience/14/slots?date=2026-02-30', () => trpc.availability.slots.query({ productId: 14, date: '2026-02-30' }), 400],
      ['/api/v1/experience/14/slots?date=2026-11-01', () => trpc.availability.slots.query({ productId: 14, date: '2026-11-01' }), 400],
      ['/api/v1/experience/14/slots?date=2027-06-01', () => trpc.availability.slots.query({ productId: 14, date: '2027-06-01' }), 400],
      ['/api/v1/experience/404/dates', () => trpc.availability.dates.query({ productId: 404 }), 404],
      ['/api/v1/experience/0/dates', () => trpc.availability.dates.query({ productId: 0 }), 400],
    ]
    for (const [path, call, status] of cases) {
      const rest = await json(path)
      const err = (await call().catch((e: unknown) => e)) as TRPCClientError<AppRouter>
      expect(err).toBeInstanceOf(TRPCClientError)
      expect(rest.status).toBe(status)
      expect(err.data?.httpStatus).toBe(status)
      expect(err.data?.appCode).toBe(rest.body.error.code)
      expect(err.message.replace(/^productId:/, 'id:')).toBe(rest.body.error.message)
    }
  })

  it('tRPC never answers 500 for a malformed request', async () => {
    for (const path of [
      '/trpc/availability.slots?input=%7Bnot-json',
      `/trpc/availability.slots?input=${encodeURIComponent(JSON.stringify({ json: { productId: 'x', date: 5 } }))}`,
      '/trpc/availability.slots',
      '/trpc/availability.nope',
      '/trpc/sync.pause',
    ]) {
      const res = await fetch(base + path)
      expect(res.status, path).toBeGreaterThanOrEqual(400)
      expect(res.status, path).toBeLessThan(500)
    }
    const post = await fetch(`${base}/trpc/sync.pause`, { method: 'POST', body: '{oops', headers: { 'content-type': 'application/json' } })
    expect(post.status).toBeLessThan(500)
  })
})

describe('responses match the documented schemas', () => {
  it('adds no field the OpenAPI document does not describe', async () => {
    const slots = (await json('/api/v1/experience/14/slots?date=2026-12-01')).body
    expect(slotsResultSchema.parse(slots)).toEqual(slots)
    const dates = (await json('/api/v1/experience/14/dates')).body
    expect(datesResultSchema.parse(dates)).toEqual(dates)
  })
})

describe('OpenAPI and Swagger UI', () => {
  it('serves an OpenAPI 3 document describing every REST route', async () => {
    const { status, body } = await json('/openapi.json')
    expect(status).toBe(200)
    expect(body.openapi).toMatch(/^3\./)
    expect(Object.keys(body.paths).sort()).toEqual([
      '/api/v1/audit',
      '/api/v1/changes',
      '/api/v1/experience/{id}/dates',
      '/api/v1/experience/{id}/slots',
      '/api/v1/products',
      '/api/v1/products/{id}',
      '/api/v1/sync/budget-history',
      '/api/v1/sync/explain',
      '/api/v1/sync/freshness',
      '/api/v1/sync/pause',
      '/api/v1/sync/resume',
      '/api/v1/sync/run',
      '/api/v1/sync/status',
      '/health',
      '/ready',
    ])
    const slots = body.paths['/api/v1/experience/{id}/slots'].get
    expect(slots.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ in: 'path', name: 'id', required: true, schema: expect.objectContaining({ type: 'integer', minimum: 1 }) }),
        expect.objectContaining({ in: 'query', name: 'date', required: true }),
      ]),
    )
    expect(slots.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/SlotsResult' })
    expect(Object.keys(slots.responses).sort()).toEqual(['200', '400', '404', '429', '503'])
    expect(body.components.schemas.Slot.properties.price.nullable).toBe(true)
    expect(body.components.schemas.Freshness.properties.state.enum).toEqual(['fresh', 'stale', 'never'])
    const pause = body.paths['/api/v1/sync/pause'].post
    expect(pause.security).toEqual([{ bearerAuth: [] }])
    expect(pause.requestBody.required).toBe(false)
    expect(pause.responses['401']).toBeDefined()
    expect(JSON.stringify(body)).not.toContain('/trpc')
  })

  it('serves Swagger UI at /docs with its assets allowed by the security headers', async () => {
    const page = await fetch(`${base}/docs/`)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('swagger-ui')
    const csp = page.headers.get('content-security-policy')!
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('upgrade-insecure-requests')
    for (const asset of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      const url = new URL(asset[1]!, `${base}/docs/`)
      expect(url.origin, 'every asset is same-origin').toBe(base)
      const res = await fetch(url)
      // Read to the end: an unread 1.7 MB bundle holds its connection busy, and app.close() in afterAll waits for it.
      await res.arrayBuffer()
      expect(res.status, url.pathname).toBe(200)
    }
    const init = await (await fetch(`${base}/docs/static/swagger-initializer.js`)).text()
    expect(init).toContain('json')
  })
})

describe('security headers (helmet)', () => {
  it.each(['/api/v1/experience/14/dates', '/trpc/health.live', '/health', '/nope'])('on %s', async (path) => {
    const res = await fetch(base + path)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/)
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/)
  })
})

describe('rate limit per client IP', () => {
  it('answers 429 with the error shape past the limit, on REST and tRPC, but never on the probes', async () => {
    const small = await createTestApi({ db: api.db, now: NOW, rateLimitPerMinute: 3 })
    try {
      const codes: number[] = []
      for (let i = 0; i < 4; i++) codes.push((await small.app.inject({ url: '/api/v1/experience/14/dates' })).statusCode)
      expect(codes).toEqual([200, 200, 200, 429])
      const limited = await small.app.inject({ url: '/api/v1/experience/14/dates' })
      expect(limited.json()).toEqual({ error: { code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/rate limit/i) } })
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
      expect((await small.app.inject({ url: '/trpc/health.live' })).statusCode).toBe(429)
      // Another client has its own allowance.
      expect((await small.app.inject({ url: '/api/v1/experience/14/dates', remoteAddress: '10.0.0.2' })).statusCode).toBe(200)
      for (let i = 0; i < 5; i++) {
        expect((await small.app.inject({ url: '/health' })).statusCode).toBe(200)
        expect((await small.app.inject({ url: '/ready' })).statusCode).toBe(200)
      }
    } finally {
      await small.app.close()
    }
  })

  it('has a generous default', async () => {
    const res = await fetch(`${base}/api/v1/experience/14/dates`)
    expect(Number(res.headers.get('x-ratelimit-limit'))).toBeGreaterThanOrEqual(6000)
  })
})
