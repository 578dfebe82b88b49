import {
  zAvailability,
  zAvailabilityCalendar,
  zErrorInvalidAvailabilityId,
  zErrorInvalidOptionId,
  zErrorInvalidProductId,
  zErrorInvalidUnitId,
  zProduct,
  zSupplier,
} from '@octocloud/types'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays } from '../../server/calendar/days.ts'
import type { PartnerSlotInput } from '../../server/partner/schema.ts'
import { seedDay } from '../helpers/api.ts'
import { createOctoTestApi, OCTO_ROUTES, OCTO_TEST_PUBLIC_URL, seedCatalogue, type OctoTestApi } from '../helpers/octo.ts'
import { rawSlot } from '../helpers/partner-data.ts'

// The OCTO routes over Postgres: keys, supplier, products, calendar and
// availability, their request rules and error bodies; every answer checked
// against @octocloud/types. (octo-faces.test.ts: agreement with REST, DST,
// the cache, OpenAPI, the face off, limits.)
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
  await api.db.prisma.$executeRawUnsafe(
    `INSERT INTO product (id, time_zone) VALUES (14, 'Asia/Singapore'), (30, 'America/New_York'), (31, 'Asia/Tokyo'), (21, 'Europe/Amsterdam'), (40, 'Asia/Singapore')`,
  )
  await seedCatalogue(api.db, 14, TODAY, 60, NOW)
  // Other currencies: the sandbox serves SGD only, so rows are written as the sync engine would.
  await seedDay(
    api.db,
    30,
    '2026-12-02',
    [rawSlot('2026-12-02', '09:00', { currencyCode: 'USD', paxAvailability: [pax('ADULT_18~99', 19.99, 'USD', 24.5), pax('CHILD_3~11', 0.29, 'USD')] })],
    new Date(NOW),
  )
  await seedDay(
    api.db,
    31,
    '2026-12-02',
    [rawSlot('2026-12-02', '10:00', { currencyCode: 'JPY', paxAvailability: [pax('ADULT', 3500, 'JPY', 4000), pax('CHILD', 1800, 'JPY')] })],
    new Date(NOW),
  )
})
afterAll(async () => api?.close())

describe('keys', () => {
  it.each([
    ['no Authorization header', null],
    ['an unknown key', 'not-a-key'],
    ['a known key with something appended', `${KEY}x`],
  ])('%s → 401 UNAUTHORIZED, OCTO body', async (_what, key) => {
    for (const [method, url] of OCTO_ROUTES) {
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
  it('GET /octo/supplier is a valid OCTO Supplier whose endpoint is PUBLIC_URL + /octo, whatever Host the request forges', async () => {
    const r = await api.inject({
      url: '/octo/supplier',
      headers: { authorization: `Bearer ${KEY}`, host: 'evil.example:8080', 'x-forwarded-host': 'evil.example' },
    })
    expect(r.statusCode).toBe(200)
    const body = json(r)
    expect(zSupplier.safeParse(body).error).toBeUndefined()
    expect(body).toEqual({
      id: 'slotsync',
      name: 'slotsync',
      endpoint: `${OCTO_TEST_PUBLIC_URL}/octo`,
      contact: { website: null, email: null, telephone: null, address: null },
    })
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
  const cal = (body: object, capabilities?: string) =>
    api.octo('POST', '/octo/availability/calendar', { productId: '14', optionId: 'DEFAULT', ...body }, capabilities === undefined ? {} : { capabilities })

  it('60 days: one valid entry per day, in order, costing one query', async () => {
    api.queries.length = 0
    const r = await cal({ localDateStart: TODAY, localDateEnd: LAST })
    // The stored day rows, not the slots of 60 days.
    expect(api.queries).toEqual(['availability_calendar'])
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
    // One priced day of a product seeded in another currency.
    const pricedDay = async (productId: string) =>
      json(
        await api.octo(
          'POST',
          '/octo/availability/calendar',
          { productId, optionId: 'DEFAULT', localDateStart: '2026-12-02', localDateEnd: '2026-12-02' },
          { capabilities: 'octo/pricing' },
        ),
      )[0]
    const usd = await pricedDay('30')
    expect(zAvailabilityCalendar.safeParse(usd).error).toBeUndefined()
    expect(usd.unitPricingFrom).toEqual([
      { unitId: 'ADULT_18~99', original: 2450, retail: 1999, net: null, currency: 'USD', currencyPrecision: 2, includedTaxes: [] },
      { unitId: 'CHILD_3~11', original: 29, retail: 29, net: null, currency: 'USD', currencyPrecision: 2, includedTaxes: [] },
    ])
    const jpy = await pricedDay('31')
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
    [
      {
        units: [
          { id: 'ADULT_12~99', quantity: 1 },
          { id: 'WIZARD', quantity: 1 },
        ],
      },
      'INVALID_UNIT_ID',
      { unitId: 'WIZARD' },
      zErrorInvalidUnitId,
    ],
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
    const r = await api.inject({
      method: 'POST',
      url: '/octo/availability/calendar',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      payload: '{"productId":',
    })
    expect(r.statusCode).toBe(400)
    expect(json(r)).toMatchObject({ error: 'BAD_REQUEST', errorMessage: expect.any(String) })
  })
})

describe('POST /octo/availability', () => {
  const avail = (body: object, capabilities?: string) =>
    api.octo('POST', '/octo/availability', { productId: '14', optionId: 'DEFAULT', ...body }, capabilities === undefined ? {} : { capabilities })
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
    const [a] = json(
      await api.octo(
        'POST',
        '/octo/availability',
        {
          productId: '30',
          optionId: 'DEFAULT',
          localDate: '2026-12-02',
          units: [
            { id: 'ADULT_18~99', quantity: 2 },
            { id: 'CHILD_3~11', quantity: 3 },
          ],
        },
        { capabilities: 'octo/pricing' },
      ),
    )
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
    for (const body of [
      {},
      { localDate: TODAY, availabilityIds: ['x'] },
      { localDate: TODAY, localDateStart: TODAY, localDateEnd: TODAY },
      { availabilityIds: Array.from({ length: 101 }, () => 'x') },
    ]) {
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
