import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { rawSlot } from '../helpers/partner-data.ts'

// Whatever a client sends, the answer is never a 5xx: generated garbage in
// every part of a request (path, query, body, content type, auth header) at
// every REST route. Through app.inject, so the full Fastify stack runs
// (routing, body parsers, hooks, handlers, error handler) against Postgres.
const NOW = Date.parse('2026-12-01T02:00:00Z')
let api: TestApi

beforeAll(async () => {
  // Thousands of made-up tokens from one address: the failed-authentication
  // allowance (api-edge-limits.test.ts) would refuse every admin call after
  // 20 of them, the valid token's too, and hide those paths from the fuzz.
  api = await createTestApi({ now: NOW, edge: { authFailuresPerMinute: 1_000_000 } })
  await api.db.prisma.product.createMany({ data: [{ id: 14 }, { id: 21, timeZone: 'America/Los_Angeles' }] })
  await seedDay(api.db, 14, '2026-12-01', [rawSlot('2026-12-01', '04:00'), rawSlot('2026-12-01', '05:00', { remaining: 0 })], new Date(NOW))
  await seedDay(api.db, 14, '2026-12-02', [], new Date(NOW))
})
afterAll(async () => api?.close())

const pad = (n: number, w: number) => String(n).padStart(w, '0')
const nearDate = fc.integer({ min: -400, max: 400 }).map((d) => new Date(NOW + d * 86_400_000).toISOString().slice(0, 10))
const weirdDate = fc
  .tuple(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: -3, max: 99 }), fc.integer({ min: -3, max: 99 }))
  .map(([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`)
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary', maxLength: 40 }))
const anyDate = fc.oneof(
  nearDate,
  weirdDate,
  text,
  fc.constantFrom('', '2026-02-30', '2026-02-29', '2028-02-29', 'today', '2026-12-01T00:00:00Z', '20261201', '2026/12/01', ' 2026-12-01', '2026-12-01\n'),
)

const idSegment = fc.oneof(
  fc.integer({ min: -5, max: 30 }).map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.double().map(String),
  fc.stringMatching(/^\d{1,40}$/),
  text,
  fc.constantFrom('14', '0', '-1', '1e3', '0x0E', '14.0', '+14', 'NaN', 'Infinity', '..', '%', '14%00', '2147483647', '2147483648', '9007199254740993'),
)

// encodeURIComponent throws on lone surrogates: such a string cannot be sent anyway.
const enc = (s: string) => {
  try {
    return encodeURIComponent(s)
  } catch {
    return encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, 'x'))
  }
}

const query = fc.oneof(
  anyDate.map((d) => `date=${enc(d)}`),
  fc.array(anyDate, { minLength: 2, maxLength: 3 }).map((ds) => ds.map((d) => `date=${enc(d)}`).join('&')),
  anyDate.map((d) => `date[]=${enc(d)}`),
  anyDate.map((d) => `date[x]=${enc(d)}`),
  fc.constantFrom('', 'date', 'date=', '&&', '=', 'date=%', 'date=%E0%A4%A', '%%%'),
  fc.tuple(text, text).map(([k, v]) => `${enc(k)}=${enc(v)}`),
)

const getRequest: fc.Arbitrary<InjectOptions> = fc
  .tuple(fc.constantFrom('slots', 'dates'), idSegment, query)
  .map(([route, id, q]) => ({ method: 'GET', url: `/api/v1/experience/${enc(id)}/${route}?${q}` }))

const jsonish = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      { productId: fc.oneof(fc.jsonValue(), idSegment), from: fc.oneof(anyDate, fc.jsonValue()), to: fc.oneof(anyDate, fc.jsonValue()) },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '',
    ' ',
    '{',
    '{"productId":',
    'null',
    '[]',
    '{}',
    '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{}}}',
    '\u0000',
    '{"productId":1e999}',
  ),
  text,
)
const contentType = fc.option(
  fc.oneof(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '*/*',
      '',
    ),
    fc.string({ maxLength: 30 }),
  ),
  { nil: undefined },
)
const auth = fc.option(
  fc.oneof(
    fc.constant(`Bearer ${ADMIN_TOKEN}`),
    fc.constant('Bearer '),
    fc.string().map((s) => `Bearer ${s}`),
    fc.string(),
  ),
  { nil: undefined },
)

const postRequest: fc.Arbitrary<InjectOptions> = fc.tuple(fc.constantFrom('pause', 'resume', 'run'), jsonish, contentType, auth).map(([route, body, ct, a]) => {
  const headers: Record<string, string> = {}
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point (a header cannot carry them)
  if (ct !== undefined) headers['content-type'] = ct.replace(/[\r\n\u0000-\u001f\u007f-\uffff]/g, '')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point (a header cannot carry them)
  if (a !== undefined) headers.authorization = a.replace(/[\r\n\u0000-\u001f\u007f-\uffff]/g, '')
  return { method: 'POST', url: `/api/v1/sync/${route}`, headers, payload: body }
})

const otherRequest: fc.Arbitrary<InjectOptions> = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
    fc.oneof(fc.webPath(), fc.constantFrom('/api/v1/sync/status', '/api/v1/experience//slots', '/api/v1/experience/14/slots/', '/health', '/ready')),
    fc.option(jsonish, { nil: undefined }),
  )
  .map(
    ([method, url, payload]) =>
      ({ method, url: url || '/', payload, headers: payload === undefined ? {} : { 'content-type': 'application/json' } }) as InjectOptions,
  )

describe('no 5xx for anything a client sends', () => {
  it('REST routes: 2,000 generated requests', async () => {
    let count = 0
    const statuses = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: getRequest, weight: 4 }, { arbitrary: postRequest, weight: 4 }, { arbitrary: otherRequest, weight: 1 }),
        async (req) => {
          const res = await api.app.inject(req)
          count++
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
          expect(res.statusCode, `${req.method} ${req.url} → ${res.body}`).toBeLessThan(500)
          if (res.statusCode >= 400 && req.method !== 'HEAD' && String(req.url).startsWith('/api/')) {
            expect(res.json(), `${req.method} ${req.url}`).toEqual({
              error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
            })
          }
        },
      ),
      { numRuns: 2000 },
    )
    expect(count).toBeGreaterThanOrEqual(2000)
    // Not only 400s: valid requests were generated too, and took the whole path.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(20)
  }, 120_000)

  it('tRPC procedures: 500 generated inputs', async () => {
    const procedure = fc.constantFrom('availability.slots', 'availability.dates', 'sync.pause', 'sync.run', 'sync.status', 'health.live')
    const input = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify({ json: v })),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      text,
    )
    await fc.assert(
      fc.asyncProperty(procedure, input, fc.boolean(), async (p, i, isPost) => {
        const res = isPost
          ? await api.app.inject({
              method: 'POST',
              url: `/trpc/${p}`,
              payload: i,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
            })
          : await api.app.inject({ method: 'GET', url: `/trpc/${p}?input=${enc(i)}` })
        expect(res.statusCode, `${p} ${i} → ${res.body}`).toBeLessThan(500)
      }),
      { numRuns: 500 },
    )
  }, 120_000)
})
