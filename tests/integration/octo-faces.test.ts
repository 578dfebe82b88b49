import { zAvailability } from '@octocloud/types'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAvailabilityService } from '../../server/availability/service.ts'
import { manualClock } from '../../server/clock.ts'
import { createDatabase } from '../../server/db/client.ts'
import { toMinorUnits } from '../../server/octo/money.ts'
import { octoRoutes } from '../../server/octo/routes.ts'
import { seedDay } from '../helpers/api.ts'
import { createOctoTestApi, OCTO_ROUTES, seedCatalogue, type OctoTestApi } from '../helpers/octo.ts'
import { rawSlot } from '../helpers/partner-data.ts'

// The OCTO face beside the rest of slotsync: it answers what /slots and
// /dates answer, keeps offsets right across DST, reuses cached reads, is
// documented, is absent without keys, and stays within the limits.
// 10:00 on 2026-12-01 in Singapore; product 14 holds the sandbox catalogue's
// 60 days, 21 is in Europe/Amsterdam.
const NOW = Date.parse('2026-12-01T02:00:00Z')
const TODAY = '2026-12-01'
const LAST = '2027-01-29'
const KEY = 'octo-key-faces-91b0e4'

let api: OctoTestApi
const json = (r: { body: string }) => JSON.parse(r.body)

beforeAll(async () => {
  api = await createOctoTestApi({ now: NOW, keys: [KEY] })
  await api.db.prisma.$executeRawUnsafe(`INSERT INTO product (id, time_zone) VALUES (14, 'Asia/Singapore'), (21, 'Europe/Amsterdam')`)
  await seedCatalogue(api.db, 14, TODAY, 60, NOW)
})
afterAll(async () => api?.close())

describe('the OCTO face and the REST face answer the same', () => {
  const minor = (n: number) => toMinorUnits(n.toFixed(2), 2)

  it('calendar ⇔ /dates and availability ⇔ /slots, for every day of product 14', async () => {
    const dates = json(await api.inject({ url: '/api/v1/experience/14/dates' })).dates as {
      date: string
      price: { finalPrice: number; currencyCode: string }
    }[]
    const calendar = json(
      await api.octo(
        'POST',
        '/octo/availability/calendar',
        { productId: '14', optionId: 'DEFAULT', localDateStart: TODAY, localDateEnd: LAST },
        { capabilities: 'octo/pricing' },
      ),
    )
    expect(dates.length).toBeGreaterThan(10)
    expect(calendar.filter((d: { available: boolean }) => d.available).map((d: { localDate: string }) => d.localDate)).toEqual(dates.map((d) => d.date))
    let compared = 0
    for (const day of calendar) {
      const rest = json(await api.inject({ url: `/api/v1/experience/14/slots?date=${day.localDate}` })).slots as {
        startTime: string
        remaining: number
        paxAvailability: { type: string; price: { finalPrice: number; originalPrice: number; currencyCode: string } }[]
      }[]
      const octo = json(
        await api.octo('POST', '/octo/availability', { productId: '14', optionId: 'DEFAULT', localDate: day.localDate }, { capabilities: 'octo/pricing' }),
      )
      expect(octo.map((a: { id: string }) => a.id.slice(11, 16))).toEqual(rest.map((s) => s.startTime))
      expect(day.status).toBe(rest.length === 0 ? 'CLOSED' : rest.some((s) => s.remaining > 0) ? 'AVAILABLE' : 'SOLD_OUT')
      expect(day.vacancies).toBe(Math.max(0, ...rest.map((s) => s.remaining)))
      rest.forEach((s, i) => {
        const a = octo[i]
        expect(a.vacancies).toBe(s.remaining)
        for (const p of s.paxAvailability) {
          const u = a.unitPricing.find((x: { unitId: string }) => x.unitId === p.type)
          expect(u).toMatchObject({
            retail: minor(p.price.finalPrice),
            original: Math.max(minor(p.price.finalPrice), minor(p.price.originalPrice)),
            currency: p.price.currencyCode,
          })
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
        const primaryRetail = rest.flatMap((s, i) =>
          s.remaining > 0 ? [octo[i].unitPricing.find((u: { unitId: string }) => u.unitId === s.paxAvailability[0]!.type).retail] : [],
        )
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
    for (const date of ['2026-10-24', '2026-10-25', '2026-10-26'])
      await seedDay(
        api.db,
        21,
        date,
        [rawSlot(date, '09:30', { providerSlotId: `${date}a`, endTime: '11:00' }), rawSlot(date, '02:30', { providerSlotId: `${date}b` })],
        new Date(OCT),
      )
  })
  afterAll(() => api.clock.set(NOW))

  it('each slot carries the offset in force at its start, and utcCutoffAt the instant in UTC', async () => {
    const r = json(
      await api.octo('POST', '/octo/availability', { productId: '21', optionId: 'DEFAULT', localDateStart: '2026-10-24', localDateEnd: '2026-10-26' }),
    )
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
    const again = json(
      await api.octo('POST', '/octo/availability', { productId: '21', optionId: 'DEFAULT', availabilityIds: r.map((a: { id: string }) => a.id) }),
    )
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
    for (const [method, url] of [...OCTO_ROUTES, ['GET', '/octo'] as const]) {
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
    await cached.db.prisma.$executeRawUnsafe(`INSERT INTO product (id, time_zone) VALUES (14, 'Asia/Singapore')`)
    await seedDay(cached.db, 14, TODAY, [rawSlot(TODAY, '09:30', { remaining: 5 })], new Date(NOW))
  })
  afterAll(async () => cached?.close())
  const calendar = async () =>
    json(
      await cached.octo(
        'POST',
        '/octo/availability/calendar',
        { productId: '14', optionId: 'DEFAULT', localDateStart: TODAY, localDateEnd: LAST },
        { capabilities: 'octo/pricing' },
      ),
    )

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
    const dead = createDatabase('postgresql://nobody@127.0.0.1:1/none')
    const app = Fastify({ logger: false })
    try {
      const availability = createAvailabilityService({ prisma: dead.prisma, clock: manualClock(NOW), defaultTimeZone: 'Asia/Singapore' })
      await app.register(octoRoutes, { availability, apiKeys: [KEY], publicUrl: 'http://localhost' })
      const r = await app.inject({
        method: 'POST',
        url: '/octo/availability/calendar',
        headers: { authorization: `Bearer ${KEY}` },
        payload: { productId: '14', optionId: 'DEFAULT', localDateStart: TODAY, localDateEnd: TODAY },
      })
      expect(r.statusCode).toBe(503)
      expect(json(r)).toEqual({ error: 'SERVICE_UNAVAILABLE', errorMessage: expect.any(String) })
    } finally {
      await app.close()
      await dead.close()
    }
  })
})
