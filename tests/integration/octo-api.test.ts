import { zAvailability, zAvailabilityCalendar, zErrorInvalidAvailabilityId, zErrorInvalidOptionId, zErrorInvalidProductId, zErrorInvalidUnitId, zProduct, zSupplier } from '@octocloud/types'
import Fastify from 'fastify'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAvailabilityService } from '../../server/availability/service.ts'
import { addDays } from '../../server/calendar/days.ts'
import { manualClock } from '../../server/clock.ts'
import { toMinorUnits } from '../../server/octo/money.ts'
import { octoRoutes } from '../../server/octo/routes.ts'
import { validateDay, type PartnerSlotInput } from '../../server/partner/schema.ts'
import { createCatalogue } from '../../server/sandbox/catalogue.ts'
import { writeDaySnapshot } from '../../server/sync/snapshot.ts'
import { seedDay } from '../helpers/api.ts'
import { createOctoTestApi, type OctoTestApi } from '../helpers/octo.ts'
import { rawSlot } from '../helpers/partner-data.ts'

// 10:00 on 2026-12-01 in Singapore. Product 14 holds the sandbox catalogue's
// 60 days (several pax types, sold-out slots, closed days); 30 sells in USD,
// 31 in JPY; 21 is in Europe/Amsterdam.
const NOW = Date.parse('2026-12-01T02:00:00Z')
const TODAY = '2026-12-01'
const LAST = '2027-01-29'
const KEY = 'octo-key-3f9a1c7e5b'
const KEY2 = 'octo-key-second-77d2'

type Pax = PartnerSlotInput['paxAvailability'][number]
const pax = (type: string, finalPrice: number, currencyCode: string, originalPrice = finalPrice): Pax => ({
  type,
  name: type.split('_')[0]!,
  description: '',
  min: 0,
  max: 20,
  remaining: 20,
  price: { discount: 0, finalPrice, originalPrice, currencyCode },
})

let api: OctoTestApi
const json = (r: { body: string }) => JSON.parse(r.body)

beforeAll(async () => {
  api = await createOctoTestApi({ now: NOW, keys: [KEY, KEY2] })
  await api.db.pool.query(`INSERT INTO product (id, time_zone) VALUES (14, 'Asia/Singapore'), (30, 'America/New_York'), (31, 'Asia/Tokyo'), (21, 'Europe/Amsterdam'), (40, 'Asia/Singapore')`)
  const catalogue = createCatalogue({ seed: 7, products: 0, timeZone: 'Asia/Singapore' })
  for (let i = 0; i < 60; i++) {
    const date = addDays(TODAY, i)
    const v = validateDay(catalogue.inventory(14, date, NOW), date)
    if (!v.ok) throw new Error(v.reason)
    await writeDaySnapshot(api.db.pool, { productId: 14, date, slots: v.slots, fetchedAt: new Date(NOW) })
  }
  // Other currencies: the sandbox serves SGD only, so rows are written as the sync engine would.
  await seedDay(api.db, 30, '2026-12-02', [rawSlot('2026-12-02', '09:00', { currencyCode: 'USD', paxAvailability: [pax('ADULT_18~99', 19.99, 'USD', 24.5), pax('CHILD_3~11', 0.29, 'USD')] })], new Date(NOW))
  await seedDay(api.db, 31, '2026-12-02', [rawSlot('2026-12-02', '10:00', { currencyCode: 'JPY', paxAvailability: [pax('ADULT', 3500, 'JPY', 4000), pax('CHILD', 1800, 'JPY')] })], new Date(NOW))
})
afterAll(async () => api?.close())

describe('keys', () => {
  it.each([
    ['no Authorization header', null],
    ['an unknown key', 'not-a-key'],
    ['a known key with something appended', `${KEY}x`],
  ])('%s → 401 UNAUTHORIZED, OCTO body', async (_what, key) => {
    for (const [method, url] of [['GET', '/octo/supplier'], ['GET', '/octo/products'], ['GET', '/octo/products/14'], ['POST', '/octo/availability/calendar'], ['POST', '/octo/availability']] as const) {
      const r = await api.octo(method, url, method === 'POST' ? { productId: '14' } : undefined, { key })
      expect(r.statusCode, url).toBe(401)
      expect(json(r)).toEqual({ error: 'UNAUTHORIZED', errorMessage: expect.any(String) })
    }
  })

  it('takes every key of OCTO_API_KEYS, and Basic is not Bearer', async () => {
    expect((await api.octo('GET', '/octo/supplier', undefined, { key: KEY2 })).statusCode).toBe(200)
    const basic = await api.inject({ url: '/octo/supplier', headers: { authorization: `Basic ${KEY}` } })
    expect(basic.statusCode).toBe(401)
  })

  it('never logs a key, right or wrong', async () => {
    const before = api.logs.length
    await api.octo('GET', '/octo/products')
    await api.octo('GET', '/octo/products', undefined, { key: `${KEY2}-wrong` })
    await api.octo('POST', '/octo/availability', '{not json', { key: KEY })
    const text = api.logs.slice(before).join('')
    expect(text).toContain('/octo/products') // request logging is on: the check could fail
    expect(text).not.toContain(KEY)
    expect(text).not.toContain(KEY2)
    expect(text).not.toContain('octo-key')
  })
})

describe('supplier and products', () => {
  it('GET /octo/supplier is a valid OCTO Supplier whose endpoint is this server + /octo', async () => {
    const r = await api.inject({ url: '/octo/supplier', headers: { authorization: `Bearer ${KEY}`, host: 'octo.example:8080' } })
    expect(r.statusCode).toBe(200)
    const body = json(r)
    expect(zSupplier.safeParse(body).error).toBeUndefined()
    expect(body).toEqual({ id: 'slotsync', name: 'slotsync', endpoint: 'http://octo.example:8080/octo', contact: { website: null, email: null, telephone: null, address: null } })
  })

  it('GET /octo/products lists every active product as a valid OCTO Product', async () => {
    const r = await api.octo('GET', '/octo/products')
    expect(r.statusCode).toBe(200)
    expect(r.headers['octo-capabilities']).toBe('')
    const products = json(r)
    expect(products.map((p: { id: string }) => p.id)).toEqual(['14', '21', '30', '31', '40'])
    for (const p of products) expect(zProduct.safeParse(p).error).toBeUndefined()
    const p14 = products[0]
    expect(p14.timeZone).toBe('Asia/Singapore')
    expect(p14.options[0].units.map((u: { id: string; type: string }) => [u.id, u.type])).toEqual([
      ['ADULT_12~99', 'ADULT'],
      ['CHILD_3~11', 'CHILD'],
    ])
    expect(p14).not.toHaveProperty('defaultCurrency')
  })

  it('with Octo-Capabilities: octo/pricing, products carry currencies and the header says so', async () => {
    const r = await api.octo('GET', '/octo/products/30', undefined, { capabilities: 'octo/content, octo/pricing' })
    expect(r.statusCode).toBe(200)
    expect(r.headers['octo-capabilities']).toBe('octo/pricing')
    const p = json(r)
    expect(zProduct.safeParse(p).error).toBeUndefined()
    expect(p).toMatchObject({ id: '30', timeZone: 'America/New_York', defaultCurrency: 'USD', availableCurrencies: ['USD'], pricingPer: 'UNIT' })
    expect(p.options[0].availabilityLocalStartTimes).toEqual(['09:00'])
  })

  it.each(['999', 'abc', '0', '14.0'])('GET /octo/products/%s → 400 INVALID_PRODUCT_ID with the id', async (id) => {
    const r = await api.octo('GET', `/octo/products/${id}`)
    expect(r.statusCode).toBe(400)
    const body = json(r)
    expect(zErrorInvalidProductId.safeParse(body).error).toBeUndefined()
    expect(body).toMatchObject({ error: 'INVALID_PRODUCT_ID', productId: id })
  })
})

describe('POST /octo/availability/calendar', () => {
  const cal = (body: object, capabilities?: string) => api.octo('POST', '/octo/availability/calendar', { productId: '14', optionId: 'DEFAULT', ...body }, capabilities === undefined ? {} : { capabilities })

  it('60 days: one valid entry per day, in order, costing one query', async () => {
    api.queries.length = 0
    const r = await cal({ localDateStart: TODAY, localDateEnd: LAST })
    expect(api.queries).toEqual(['availability_range'])
    expect(r.statusCode).toBe(200)
    const days = json(r)
    expect(days).toHaveLength(60)
    expect(days.map((d: { localDate: string }) => d.localDate)).toEqual(Array.from({ length: 60 }, (_, i) => addDays(TODAY, i)))
    for (const d of days) {
      expect(zAvailabilityCalendar.safeParse(d).error).toBeUndefined()
      expect(d).not.toHaveProperty('unitPricingFrom')
    }
    expect(new Set(days.map((d: { status: string }) => d.status)).has('AVAILABLE')).toBe(true)
  })

  it('days outside the 60-day horizon are CLOSED', async () => {
    const days = json(await cal({ localDateStart: '2026-11-29', localDateEnd: TODAY }))
    expect(days.map((d: { status: string }) => d.status).slice(0, 2)).toEqual(['CLOSED', 'CLOSED'])
    const after = json(await cal({ localDateStart: '2027-01-30', localDateEnd: '2027-02-01' }))
    expect(after.every((d: { status: string; available: boolean }) => d.status === 'CLOSED' && !d.available)).toBe(true)
  })

  it('with units to check, two queries', async () => {
    api.queries.length = 0
    const r = await cal({ localDateStart: TODAY, localDateEnd: LAST, units: [{ id: 'ADULT_12~99', quantity: 1 }] })
    expect(r.statusCode).toBe(200)
    expect(api.queries).toHaveLength(2)
  })

  it('money per currency: SGD, USD 2 digits; JPY 0, exactly from the stored decimals', async () => {
    const usd = json(await api.octo('POST', '/octo/availability/calendar', { productId: '30', optionId: 'DEFAULT', localDateStart: '2026-12-02', localDateEnd: '2026-12-02' }, { capabilities: 'octo/pricing' }))[0]
    expect(zAvailabilityCalendar.safeParse(usd).error).toBeUndefined()
    expect(usd.unitPricingFrom).toEqual([
      { unitId: 'ADULT_18~99', original: 2450, retail: 1999, net: null, currency: 'USD', currencyPrecision: 2, includedTaxes: [] },
      { unitId: 'CHILD_3~11', original: 29, retail: 29, net: null, currency: 'USD', currencyPrecision: 2, includedTaxes: [] },
    ])
    const jpy = json(await api.octo('POST', '/octo/availability/calendar', { productId: '31', optionId: 'DEFAULT', localDateStart: '2026-12-02', localDateEnd: '2026-12-02' }, { capabilities: 'octo/pricing' }))[0]
    expect(jpy.unitPricingFrom).toEqual([
      { unitId: 'ADULT', original: 4000, retail: 3500, net: null, currency: 'JPY', currencyPrecision: 0, includedTaxes: [] },
      { unitId: 'CHILD', original: 1800, retail: 1800, net: null, currency: 'JPY', currencyPrecision: 0, includedTaxes: [] },
    ])
    const sgd = json(await cal({ localDateStart: TODAY, localDateEnd: LAST }, 'octo/pricing')).find((d: { available: boolean }) => d.available)
    expect(sgd.unitPricingFrom[0]).toMatchObject({ currency: 'SGD', currencyPrecision: 2 })
    expect(Number.isInteger(sgd.unitPricingFrom[0].retail)).toBe(true)
  })

  it.each([
    [{ productId: '999' }, 'INVALID_PRODUCT_ID', { productId: '999' }, zErrorInvalidProductId],
    [{ optionId: 'VIP' }, 'INVALID_OPTION_ID', { optionId: 'VIP' }, zErrorInvalidOptionId],
    [{ units: [{ id: 'ADULT_12~99', quantity: 1 }, { id: 'WIZARD', quantity: 1 }] }, 'INVALID_UNIT_ID', { unitId: 'WIZARD' }, zErrorInvalidUnitId],
  ])('%j → 400 %s with the id', async (over, code, extra, schema) => {
    const r = await cal({ localDateStart: TODAY, localDateEnd: '2026-12-03', ...over })
    expect(r.statusCode).toBe(400)
    const body = json(r)
    expect(schema.safeParse(body).error).toBeUndefined()
    expect(body).toMatchObject({ error: code, ...extra })
  })

  it.each([
    [{ localDateStart: '2026-12-03', localDateEnd: TODAY }, /before localDateStart/],
    [{ localDateStart: TODAY, localDateEnd: '2027-12-02' }, /over one year/],
    [{ localDateStart: TODAY }, /localDateEnd is required/],
    [{ localDateStart: '2026-02-30', localDateEnd: TODAY }, /not a real calendar day/],
  ])('%j → 400 BAD_REQUEST', async (over, message) => {
    const r = await cal(over)
    expect(r.statusCode).toBe(400)
    expect(json(r)).toEqual({ error: 'BAD_REQUEST', errorMessage: expect.stringMatching(message) })
  })

  it('a body that is not JSON → 400 BAD_REQUEST in OCTO shape', async () => {
    const r = await api.inject({ method: 'POST', url: '/octo/availability/calendar', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, payload: '{"productId":' })
    expect(r.statusCode).toBe(400)
    expect(json(r)).toMatchObject({ error: 'BAD_REQUEST', errorMessage: expect.any(String) })
  })
})

describe('POST /octo/availability', () => {
  const avail = (body: object, capabilities?: string) => api.octo('POST', '/octo/availability', { productId: '14', optionId: 'DEFAULT', ...body }, capabilities === undefined ? {} : { capabilities })
  // Product 14's second open day (the catalogue closes some days).
  let open = ''
  beforeAll(async () => {
    open = json(await api.inject({ url: '/api/v1/experience/14/dates' })).dates[1].date
  })

  it('localDate, a range and ids select the same slots', async () => {
    const day = json(await avail({ localDate: open }))
    expect(day.length).toBeGreaterThan(0)
    for (const a of day) {
      expect(zAvailability.safeParse(a).error).toBeUndefined()
      expect(a.id).toMatch(new RegExp(`^${open}T\\d{2}:\\d{2}:00\\+08:00$`))
      expect(a.id).toBe(a.localDateTimeStart)
      expect(a.utcCutoffAt).toBe(new Date(a.id).toISOString().replace('.000Z', 'Z'))
    }
    expect(json(await avail({ localDateStart: open, localDateEnd: open }))).toEqual(day)
    const ids = day.map((a: { id: string }) => a.id)
    expect(json(await avail({ availabilityIds: [...ids].reverse() }))).toEqual(day)
    const range = json(await avail({ localDateStart: open, localDateEnd: addDays(open, 2) }))
    expect(range.slice(0, day.length)).toEqual(day)
    const starts = range.map((a: { utcCutoffAt: string }) => a.utcCutoffAt)
    expect([...starts].sort()).toEqual(starts)
  })

  it('with pricing and units: unitPricing per pax type and the total', async () => {
    const [a] = json(await api.octo('POST', '/octo/availability', { productId: '30', optionId: 'DEFAULT', localDate: '2026-12-02', units: [{ id: 'ADULT_18~99', quantity: 2 }, { id: 'CHILD_3~11', quantity: 3 }] }, { capabilities: 'octo/pricing' }))
    expect(zAvailability.safeParse(a).error).toBeUndefined()
    expect(a).toMatchObject({ id: '2026-12-02T09:00:00-05:00', utcCutoffAt: '2026-12-02T14:00:00Z', vacancies: 2000, status: 'AVAILABLE' })
    expect(a.unitPricing.map((u: { unitId: string; retail: number }) => [u.unitId, u.retail])).toEqual([
      ['ADULT_18~99', 1999],
      ['CHILD_3~11', 29],
    ])
    expect(a.pricing).toEqual({ original: 2 * 2450 + 3 * 29, retail: 2 * 1999 + 3 * 29, net: null, currency: 'USD', currencyPrecision: 2, includedTaxes: [] })
  })

  it('an unknown availability id → 400 INVALID_AVAILABILITY_ID with the id', async () => {
    const [first] = json(await avail({ localDate: open }))
    for (const bad of [`${open}T03:17:00+08:00`, 'garbage', '2026-11-30T09:00:00+08:00']) {
      const r = await avail({ availabilityIds: [first.id, bad] })
      expect(r.statusCode).toBe(400)
      const body = json(r)
      expect(zErrorInvalidAvailabilityId.safeParse(body).error).toBeUndefined()
      expect(body).toMatchObject({ error: 'INVALID_AVAILABILITY_ID', availabilityId: bad })
    }
  })

  it('selector rules: none, mixed, more than 100 ids → 400 BAD_REQUEST', async () => {
    for (const body of [{}, { localDate: TODAY, availabilityIds: ['x'] }, { localDate: TODAY, localDateStart: TODAY, localDateEnd: TODAY }, { availabilityIds: Array.from({ length: 101 }, () => 'x') }]) {
      const r = await avail(body)
      expect(r.statusCode, JSON.stringify(body)).toBe(400)
      expect(json(r).error).toBe('BAD_REQUEST')
    }
  })

  it('an unknown product id outranks a bad option; both name the id', async () => {
    expect(json(await avail({ productId: 'nope', optionId: 'x', localDate: TODAY }))).toMatchObject({ error: 'INVALID_PRODUCT_ID', productId: 'nope' })
    expect(json(await avail({ optionId: 'x', localDate: TODAY }))).toMatchObject({ error: 'INVALID_OPTION_ID', optionId: 'x' })
  })
})

describe('the OCTO face and the REST face answer the same', () => {
  const minor = (n: number) => toMinorUnits(n.toFixed(2), 2)

  it('calendar ⇔ /dates and availability ⇔ /slots, for every day of product 14', async () => {
    const dates = json(await api.inject({ url: '/api/v1/experience/14/dates' })).dates as { date: string; price: { finalPrice: number; currencyCode: string } }[]
    const calendar = json(await api.octo('POST', '/octo/availability/calendar', { productId: '14', optionId: 'DEFAULT', localDateStart: TODAY, localDateEnd: LAST }, { capabilities: 'octo/pricing' }))
    expect(dates.length).toBeGreaterThan(10)
    expect(calendar.filter((d: { available: boolean }) => d.available).map((d: { localDate: string }) => d.localDate)).toEqual(dates.map((d) => d.date))
    let compared = 0
    for (const day of calendar) {
      const rest = json(await api.inject({ url: `/api/v1/experience/14/slots?date=${day.localDate}` })).slots as { startTime: string; remaining: number; paxAvailability: { type: string; price: { finalPrice: number; originalPrice: number; currencyCode: string } }[] }[]
      const octo = json(await api.octo('POST', '/octo/availability', { productId: '14', optionId: 'DEFAULT', localDate: day.localDate }, { capabilities: 'octo/pricing' }))
      expect(octo.map((a: { id: string }) => a.id.slice(11, 16))).toEqual(rest.map((s) => s.startTime))
      expect(day.status).toBe(rest.length === 0 ? 'CLOSED' : rest.some((s) => s.remaining > 0) ? 'AVAILABLE' : 'SOLD_OUT')
      expect(day.vacancies).toBe(Math.max(0, ...rest.map((s) => s.remaining)))
      rest.forEach((s, i) => {
        const a = octo[i]
        expect(a.vacancies).toBe(s.remaining)
        for (const p of s.paxAvailability) {
          const u = a.unitPricing.find((x: { unitId: string }) => x.unitId === p.type)
          expect(u).toMatchObject({ retail: minor(p.price.finalPrice), original: Math.max(minor(p.price.finalPrice), minor(p.price.originalPrice)), currency: p.price.currencyCode })
          compared++
        }
      })
      // The calendar's "from" price per unit: the lowest among the day's slots in /slots.
      const lowest = new Map<string, number>()
      for (const s of rest) for (const p of s.paxAvailability) lowest.set(p.type, Math.min(lowest.get(p.type) ?? Infinity, minor(p.price.finalPrice)))
      expect(Object.fromEntries(day.unitPricingFrom.map((u: { unitId: string; retail: number }) => [u.unitId, u.retail]))).toEqual(Object.fromEntries(lowest))
      // /dates' price is the lowest primary-pax price among slots with something left.
      const open = dates.find((d) => d.date === day.localDate)
      if (open) {
        const primaryRetail = rest.flatMap((s, i) => (s.remaining > 0 ? [octo[i].unitPricing.find((u: { unitId: string }) => u.unitId === s.paxAvailability[0]!.type).retail] : []))
        expect(Math.min(...primaryRetail)).toBe(minor(open.price.finalPrice))
      }
    }
    expect(compared).toBeGreaterThan(100)
  })
})

describe('a product in Europe/Amsterdam across the last Sunday of October', () => {
  // Clocks go back at 03:00 on 2026-10-25: +02:00 before, +01:00 after.
  const OCT = Date.parse('2026-10-20T08:00:00Z')
  beforeAll(async () => {
    api.clock.set(OCT)
    for (const date of ['2026-10-24', '2026-10-25', '2026-10-26']) await seedDay(api.db, 21, date, [rawSlot(date, '09:30', { providerSlotId: `${date}a`, endTime: '11:00' }), rawSlot(date, '02:30', { providerSlotId: `${date}b` })], new Date(OCT))
  })
  afterAll(() => api.clock.set(NOW))

  it('each slot carries the offset in force at its start, and utcCutoffAt the instant in UTC', async () => {
    const r = json(await api.octo('POST', '/octo/availability', { productId: '21', optionId: 'DEFAULT', localDateStart: '2026-10-24', localDateEnd: '2026-10-26' }))
    for (const a of r) expect(zAvailability.safeParse(a).error).toBeUndefined()
    expect(r.map((a: { id: string; localDateTimeEnd: string; utcCutoffAt: string }) => [a.id, a.localDateTimeEnd, a.utcCutoffAt])).toEqual([
      ['2026-10-24T02:30:00+02:00', '2026-10-24T02:30:00+02:00', '2026-10-24T00:30:00Z'],
      ['2026-10-24T09:30:00+02:00', '2026-10-24T11:00:00+02:00', '2026-10-24T07:30:00Z'],
      // 02:30 happens twice that night: the first (summer time) one
      ['2026-10-25T02:30:00+02:00', '2026-10-25T02:30:00+02:00', '2026-10-25T00:30:00Z'],
      ['2026-10-25T09:30:00+01:00', '2026-10-25T11:00:00+01:00', '2026-10-25T08:30:00Z'],
      ['2026-10-26T02:30:00+01:00', '2026-10-26T02:30:00+01:00', '2026-10-26T01:30:00Z'],
      ['2026-10-26T09:30:00+01:00', '2026-10-26T11:00:00+01:00', '2026-10-26T08:30:00Z'],
    ])
    // The ids select the same slots back.
    const again = json(await api.octo('POST', '/octo/availability', { productId: '21', optionId: 'DEFAULT', availabilityIds: r.map((a: { id: string }) => a.id) }))
    expect(again).toEqual(r)
    const product = json(await api.octo('GET', '/octo/products/21'))
    expect(product).toMatchObject({ timeZone: 'Europe/Amsterdam' })
    expect(product.options[0].availabilityLocalStartTimes).toEqual(['02:30', '09:30'])
  })
})

describe('OpenAPI document', () => {
  it('lists the five OCTO routes under the octo tag, with their bearer scheme', async () => {
    const doc = json(await api.inject({ url: '/openapi.json' }))
    const octo = Object.entries(doc.paths as Record<string, Record<string, { tags?: string[]; security?: unknown }>>).filter(([p]) => p.startsWith('/octo'))
    expect(octo.map(([p, ops]) => `${Object.keys(ops).join(',').toUpperCase()} ${p}`).sort()).toEqual([
      'GET /octo/products',
      'GET /octo/products/{id}',
      'GET /octo/supplier',
      'POST /octo/availability',
      'POST /octo/availability/calendar',
    ])
    for (const [, ops] of octo) for (const op of Object.values(ops)) expect(op).toMatchObject({ tags: ['octo'], security: [{ octoBearer: [] }] })
    expect(doc.tags.map((t: { name: string }) => t.name)).toContain('octo')
  })
})

describe('with OCTO_API_KEYS unset', () => {
  let off: OctoTestApi
  beforeAll(async () => {
    off = await createOctoTestApi({ now: NOW })
  })
  afterAll(async () => off?.close())

  it('every /octo/* route is 404, with a key or without, and none is documented', async () => {
    for (const [method, url] of [['GET', '/octo/supplier'], ['GET', '/octo/products'], ['GET', '/octo/products/14'], ['POST', '/octo/availability/calendar'], ['POST', '/octo/availability'], ['GET', '/octo']] as const) {
      for (const key of [null, KEY]) {
        const r = await off.octo(method, url, method === 'POST' ? { productId: '14', optionId: 'DEFAULT', localDate: TODAY } : undefined, { key })
        expect(r.statusCode, `${method} ${url}`).toBe(404)
      }
    }
    const doc = json(await off.inject({ url: '/openapi.json' }))
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/octo'))).toEqual([])
  })
})

describe('with the read cache on', () => {
  let cached: OctoTestApi
  beforeAll(async () => {
    cached = await createOctoTestApi({ now: NOW, keys: [KEY], cacheTtlMs: 60_000 })
    await cached.db.pool.query(`INSERT INTO product (id, time_zone) VALUES (14, 'Asia/Singapore')`)
    await seedDay(cached.db, 14, TODAY, [rawSlot(TODAY, '09:30', { remaining: 5 })], new Date(NOW))
  })
  afterAll(async () => cached?.close())
  const calendar = async () => json(await cached.octo('POST', '/octo/availability/calendar', { productId: '14', optionId: 'DEFAULT', localDateStart: TODAY, localDateEnd: LAST }, { capabilities: 'octo/pricing' }))

  it('serves repeats from memory (no query), and a write shows once the product is invalidated', async () => {
    const first = await calendar()
    cached.queries.length = 0
    expect(await calendar()).toEqual(first)
    expect(cached.queries).toEqual([])
    await seedDay(cached.db, 14, TODAY, [rawSlot(TODAY, '09:30', { remaining: 0 })], new Date(NOW + 1000))
    expect((await calendar())[0]).toMatchObject({ status: 'AVAILABLE', vacancies: 5 }) // still the cached read
    cached.availability.invalidate(14)
    expect((await calendar())[0]).toMatchObject({ status: 'SOLD_OUT', vacancies: 0, available: false })
    // A new day (the clock past midnight) is a new horizon: day 1 is outside it now.
    cached.clock.set(NOW + 86_400_000)
    expect((await calendar())[0]).toMatchObject({ localDate: TODAY, status: 'CLOSED' })
    cached.clock.set(NOW)
  })
})

describe('limits and outages', () => {
  it('past the per-IP rate limit: 429 TOO_MANY_REQUESTS in OCTO shape, wrong keys counted too', async () => {
    const limited = await createOctoTestApi({ now: NOW, keys: [KEY], rateLimitPerMinute: 3 })
    try {
      const statuses = []
      for (const key of [KEY, 'guess-1', 'guess-2', KEY]) statuses.push((await limited.octo('GET', '/octo/supplier', undefined, { key })).statusCode)
      expect(statuses).toEqual([200, 401, 401, 429])
      const r = await limited.octo('GET', '/octo/products')
      expect(r.statusCode).toBe(429)
      expect(json(r)).toEqual({ error: 'TOO_MANY_REQUESTS', errorMessage: expect.any(String) })
    } finally {
      await limited.close()
    }
  })

  it('with the database unreachable: 503 SERVICE_UNAVAILABLE, not a 500', async () => {
    const dead = new pg.Pool({ connectionString: 'postgresql://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 2000 })
    const app = Fastify({ logger: false })
    try {
      const availability = createAvailabilityService({ pool: dead, clock: manualClock(NOW), defaultTimeZone: 'Asia/Singapore' })
      await app.register(octoRoutes, { availability, apiKeys: [KEY] })
      const r = await app.inject({ method: 'POST', url: '/octo/availability/calendar', headers: { authorization: `Bearer ${KEY}` }, payload: { productId: '14', optionId: 'DEFAULT', localDateStart: TODAY, localDateEnd: TODAY } })
      expect(r.statusCode).toBe(503)
      expect(json(r)).toEqual({ error: 'SERVICE_UNAVAILABLE', errorMessage: expect.any(String) })
    } finally {
      await app.close()
      await dead.end()
    }
  })
})
