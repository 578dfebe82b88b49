import { zAvailability, zAvailabilityCalendar, zBaseError } from '@octocloud/types'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays } from '../../server/calendar/days.ts'
import { seedDay } from '../helpers/api.ts'
import { createOctoTestApi, type OctoTestApi } from '../helpers/octo.ts'
import { rawSlot } from '../helpers/partner-data.ts'

// Whatever an OCTO client sends, the answer is never a 5xx: generated bodies
// (plausible and garbage) at every OCTO route, through the full Fastify stack
// against Postgres. A 200 is valid OCTO; anything else is an OCTO error body.
const NOW = Date.parse('2026-12-01T02:00:00Z')
const TODAY = '2026-12-01'
const KEY = 'fuzz-octo-key'
let api: OctoTestApi

beforeAll(async () => {
  api = await createOctoTestApi({ now: NOW, keys: [KEY] })
  await api.db.prisma.$executeRawUnsafe(`INSERT INTO product (id, time_zone) VALUES (14, 'Asia/Singapore'), (21, 'Europe/Amsterdam')`)
  for (let i = 0; i < 5; i++) {
    const d = addDays(TODAY, i)
    await seedDay(api.db, 14, d, [rawSlot(d, '09:30'), rawSlot(d, '04:00', { remaining: 0 })], new Date(NOW))
  }
})
afterAll(async () => api?.close())

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }))
const nearDate = fc.integer({ min: -40, max: 420 }).map((d) => addDays(TODAY, d))
const anyDate = fc.oneof(nearDate, nearDate, text, fc.constantFrom('2026-02-30', '2026-12-1', '0000-01-01', '9999-12-31', '2026-12-01T00:00:00Z', ''))
const productId = fc.oneof(
  fc.constantFrom('14', '21', '999', '0', '-1', '14.0', '2147483648', ''),
  text,
  fc.integer().map(String),
  fc.integer(),
  fc.constant(null),
)
const optionId = fc.oneof(fc.constant('DEFAULT'), fc.constant('DEFAULT'), text, fc.integer(), fc.constant(null))
const availabilityId = fc.oneof(
  nearDate.chain((d) => fc.constantFrom(`${d}T09:30:00+08:00`, `${d}T04:00:00+08:00`, `${d}T09:30:00+01:00`, `${d}T25:00:00+08:00`)),
  text,
  fc.integer(),
)
const unit = fc.oneof(
  fc.record(
    {
      id: fc.oneof(fc.constantFrom('ADULT_12~99', 'CHILD_3~11', 'WIZARD'), text),
      quantity: fc.oneof(fc.integer({ min: -2, max: 12_000 }), fc.double(), fc.constant('2')),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
)
const units = fc.oneof(fc.array(unit, { maxLength: 4 }), fc.array(unit, { minLength: 99, maxLength: 102 }), fc.jsonValue())

const structured = fc.record(
  {
    productId,
    optionId,
    localDate: anyDate,
    localDateStart: anyDate,
    localDateEnd: anyDate,
    availabilityIds: fc.oneof(fc.array(availabilityId, { maxLength: 5 }), fc.array(availabilityId, { minLength: 98, maxLength: 103 }), fc.jsonValue()),
    units,
    currency: text,
  },
  { requiredKeys: [] },
)
// Well-formed requests with one selector, so answers (not only refusals) are checked too.
const wellFormed = fc
  .tuple(
    fc.constantFrom('14', '21'),
    nearDate,
    fc.integer({ min: 0, max: 400 }),
    fc.constantFrom('date', 'range', 'ids'),
    fc.option(fc.array(fc.record({ id: fc.constantFrom('ADULT_12~99', 'CHILD_3~11'), quantity: fc.nat(5) }), { maxLength: 2 }), { nil: undefined }),
  )
  .map(([productId, from, span, kind, u]) => ({
    productId,
    optionId: 'DEFAULT',
    ...(kind === 'date'
      ? { localDate: from }
      : kind === 'ids'
        ? { availabilityIds: [`${from}T09:30:00+08:00`] }
        : { localDateStart: from, localDateEnd: addDays(from, span) }),
    ...(u ? { units: u } : {}),
  }))
const body = fc.oneof(structured, structured, wellFormed, wellFormed, fc.jsonValue())

function checkAnswer(url: string, status: number, payload: string, capabilities: string): void {
  expect(status, `${url} ${payload.slice(0, 300)}`).toBeLessThan(500)
  const parsed = JSON.parse(payload)
  if (status >= 400) {
    expect(zBaseError.safeParse(parsed).error).toBeUndefined()
    return
  }
  const schema = url.endsWith('calendar') ? zAvailabilityCalendar : zAvailability
  expect(Array.isArray(parsed)).toBe(true)
  for (const item of parsed) {
    expect(schema.safeParse(item).error).toBeUndefined()
    if (!capabilities.includes('octo/pricing')) expect(item).not.toHaveProperty(url.endsWith('calendar') ? 'unitPricingFrom' : 'unitPricing')
  }
}

describe('OCTO under generated requests', () => {
  it('1,200 generated bodies at /availability and /availability/calendar: never a 5xx, always OCTO', async () => {
    let ok = 0
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/octo/availability', '/octo/availability/calendar'),
        body,
        fc.constantFrom('', 'octo/pricing', 'octo/content,octo/pricing', 'x'),
        async (url, b, capabilities) => {
          const r = await api.inject({
            method: 'POST',
            url,
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'octo-capabilities': capabilities },
            payload: JSON.stringify(b),
          })
          checkAnswer(url, r.statusCode, r.body, capabilities)
          if (r.statusCode === 200) ok++
        },
      ),
      { numRuns: 1200 },
    )
    // The generator reaches the happy path too, not only refusals.
    expect(ok).toBeGreaterThan(10)
  })

  it('raw bytes, odd content types, odd keys and product ids: never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/octo/availability', '/octo/availability/calendar', '/octo/products', '/octo/supplier'),
        fc.oneof(
          text,
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', ''),
        fc.oneof(
          fc.constant(`Bearer ${KEY}`),
          fc.constant(`Bearer ${KEY}`),
          text.map((t) => `Bearer ${t}`),
          text,
        ),
        fc.oneof(
          fc.constantFrom('14', '999', '%', '..', '14%00', '9'.repeat(40)),
          text.map((t) => encodeURIComponent(t.replace(/[\uD800-\uDFFF]/g, 'x'))),
        ),
        async (url, payload, contentType, authorization, id) => {
          const get = !url.startsWith('/octo/availability')
          const target = url === '/octo/products' && id.length % 2 ? `/octo/products/${id}` : url
          const r = await api.inject({
            method: get ? 'GET' : 'POST',
            url: target,
            headers: { authorization: authorization.replace(/[\r\n\0]/g, ''), ...(contentType ? { 'content-type': contentType } : {}) },
            ...(get ? {} : { payload }),
          })
          expect(r.statusCode, `${target} ${payload.slice(0, 200)}`).toBeLessThan(500)
        },
      ),
      { numRuns: 400 },
    )
  })
})
