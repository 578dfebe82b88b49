import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase } from '../../server/db/client.ts'
import { dayRange } from '../../server/calendar/days.ts'
import type { CachingAvailabilityService } from '../../server/availability/service.ts'
import { recordFetchFailure } from '../../server/sync/snapshot.ts'
import { createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { rawSlot } from '../helpers/partner-data.ts'
import type { PartnerSlotInput } from '../../server/partner/schema.ts'

// 10:00 in Singapore on 2026-12-01; still 18:00 on 2026-11-30 in Los Angeles.
const NOW = Date.parse('2026-12-01T02:00:00Z')
const MIN = 60_000
const at = (msAgo: number) => new Date(NOW - msAgo)

type Pax = PartnerSlotInput['paxAvailability'][number]
const pax = (type: string, finalPrice: number, over: Partial<Pax> = {}): Pax => ({
  type,
  name: type.split('_')[0]!,
  description: `${type} description`,
  min: 0,
  max: 100,
  remaining: 10,
  price: { discount: 0, finalPrice, originalPrice: finalPrice, currencyCode: 'SGD' },
  ...over,
})

let api: TestApi
let base: string
async function get(path: string) {
  const res = await fetch(base + path)
  const text = await res.text()
  return { status: res.status, text, body: JSON.parse(text), headers: res.headers }
}

beforeAll(async () => {
  api = await createTestApi({ now: NOW })
  base = await api.listen()
  const db = api.db
  await db.prisma.product.createMany({ data: [{ id: 14 }, { id: 30 }, { id: 21, timeZone: 'America/Los_Angeles' }] })
  await seedDay(
    db,
    14,
    '2026-12-01',
    [
      rawSlot('2026-12-01', '08:00'),
      rawSlot('2026-12-01', '04:00', { remaining: 0, paxAvailability: [pax('ADULT', 100, { isPrimary: true })] }),
      rawSlot('2026-12-01', '06:30', {
        paxAvailability: [
          pax('INFANT_0~4', 0),
          pax('CHILD_3~11', 50),
          pax('ADULT_12~99', 210.5, { price: { discount: 0, finalPrice: 210.5, originalPrice: 250, currencyCode: 'SGD' } }),
        ],
      }),
    ],
    at(10 * MIN),
  )
  await seedDay(db, 14, '2026-12-02', [rawSlot('2026-12-02', '04:00', { remaining: 0 }), rawSlot('2026-12-02', '05:00', { remaining: 0 })], at(5 * 60 * MIN))
  await seedDay(db, 14, '2026-12-03', [], at(60 * MIN))
  await seedDay(
    db,
    14,
    '2026-12-04',
    [rawSlot('2026-12-04', '09:00', { paxAvailability: [pax('CHILD_5~15', 20), pax('STUDENT', 15), pax('SENIOR', 18)] })],
    at(60 * MIN),
  )
  await recordFetchFailure(db.prisma, { productId: 14, date: '2026-12-05', at: at(MIN), outcome: 'error', error: 'partner 502', nextDueAt: at(0) })
  await seedDay(db, 14, '2026-11-30', [rawSlot('2026-11-30', '04:00')], at(24 * 60 * MIN))
  await seedDay(db, 14, '2027-01-29', [rawSlot('2027-01-29', '04:00', { paxAvailability: [pax('ADULT', 99.99)] })], at(60 * MIN))
  await seedDay(db, 14, '2027-01-30', [rawSlot('2027-01-30', '04:00')], at(60 * MIN))
  await seedDay(
    db,
    21,
    '2026-11-30',
    [
      rawSlot('2026-11-30', '23:30', {
        paxAvailability: [pax('ADULT', 70, { price: { discount: 0, finalPrice: 70, originalPrice: 70, currencyCode: 'USD' } })],
      }),
    ],
    at(5 * MIN),
  )
  await seedDay(db, 21, '2027-01-29', [rawSlot('2027-01-29', '10:00')], at(5 * MIN))
})
afterAll(async () => api?.close())

describe('GET /api/v1/experience/:id/slots', () => {
  it('answers the contract shape, slots by start time, pax primary first then by type', async () => {
    const r = await get('/api/v1/experience/14/slots?date=2026-12-01')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toMatch(/^application\/json/)
    expect(r.body.slots.map((s: { startTime: string }) => s.startTime)).toEqual(['04:00', '06:30', '08:00'])
    expect(r.body.slots[2]).toEqual({
      startTime: '08:00',
      startDate: '2026-12-01',
      endTime: '08:00',
      providerSlotId: 'P14_2026-12-01T08:00',
      price: { finalPrice: 242.14, currencyCode: 'SGD', originalPrice: 242.14 },
      remaining: 2000,
      paxAvailability: [
        {
          type: 'ADULT_12~99',
          name: 'Adult',
          description: '12 years and above',
          price: { finalPrice: 242.14, currencyCode: 'SGD', originalPrice: 242.14 },
          min: 1,
          max: 1000,
          remaining: 1000,
          isPrimary: true,
        },
        {
          type: 'CHILD_3~11',
          name: 'Child',
          description: '3 to 11 years',
          price: { finalPrice: 180.5, currencyCode: 'SGD', originalPrice: 180.5 },
          min: 0,
          max: 1000,
          remaining: 1000,
          isPrimary: false,
        },
      ],
    })
  })

  it('prices a slot at its primary pax type: the unflagged ADULT type over cheaper ones, sorted first', async () => {
    const { body } = await get('/api/v1/experience/14/slots?date=2026-12-01')
    const slot = body.slots[1]
    expect(slot.price).toEqual({ finalPrice: 210.5, currencyCode: 'SGD', originalPrice: 250 })
    expect(slot.paxAvailability.map((p: { type: string }) => p.type)).toEqual(['ADULT_12~99', 'CHILD_3~11', 'INFANT_0~4'])
  })

  it('with no flagged and no ADULT type, prices at the cheapest and sorts it first', async () => {
    const { body } = await get('/api/v1/experience/14/slots?date=2026-12-04')
    expect(body.slots[0].price.finalPrice).toBe(15)
    expect(body.slots[0].paxAvailability.map((p: { type: string }) => p.type)).toEqual(['STUDENT', 'CHILD_5~15', 'SENIOR'])
  })

  it('lists sold-out slots too (remaining 0): the day view is the whole day', async () => {
    const { body } = await get('/api/v1/experience/14/slots?date=2026-12-02')
    expect(body.slots.map((s: { remaining: number }) => s.remaining)).toEqual([0, 0])
  })

  it('renders money as JSON numbers with at most two decimals', async () => {
    const { text } = await get('/api/v1/experience/14/slots?date=2026-12-01')
    const prices = [...text.matchAll(/"(?:finalPrice|originalPrice)":([^,}]+)/g)].map((m) => m[1]!)
    expect(prices.length).toBeGreaterThan(0)
    for (const p of prices) expect(p).toMatch(/^\d+(\.\d{1,2})?$/)
  })

  describe('freshness', () => {
    it('is fresh for today fetched 10 minutes ago (target 15 min)', async () => {
      const { body } = await get('/api/v1/experience/14/slots?date=2026-12-01')
      expect(body.freshness).toEqual({ fetchedAt: at(10 * MIN).toISOString(), state: 'fresh' })
    })
    it('is stale for tomorrow fetched 5 hours ago (target 4 h)', async () => {
      const { body } = await get('/api/v1/experience/14/slots?date=2026-12-02')
      expect(body.freshness).toEqual({ fetchedAt: at(300 * MIN).toISOString(), state: 'stale' })
    })
    it('tells a closed day (fetched, nothing on sale) from one never fetched', async () => {
      const closed = await get('/api/v1/experience/14/slots?date=2026-12-03')
      expect(closed.status).toBe(200)
      expect(closed.body).toEqual({ slots: [], freshness: { fetchedAt: at(60 * MIN).toISOString(), state: 'fresh' } })
      const never = await get('/api/v1/experience/14/slots?date=2026-12-10')
      expect(never.body).toEqual({ slots: [], freshness: { fetchedAt: null, state: 'never' } })
    })
    it('is never for a day whose only fetches failed', async () => {
      const { body } = await get('/api/v1/experience/14/slots?date=2026-12-05')
      expect(body.freshness).toEqual({ fetchedAt: null, state: 'never' })
    })
    it('turns stale as the clock moves past the target', async () => {
      api.clock.set(NOW + 6 * MIN)
      try {
        const { body } = await get('/api/v1/experience/14/slots?date=2026-12-01')
        expect(body.freshness.state).toBe('stale')
      } finally {
        api.clock.set(NOW)
      }
    })
  })

  describe('the horizon is in the product time zone', () => {
    it('Singapore: today 2026-12-01 to 2027-01-29', async () => {
      expect((await get('/api/v1/experience/14/slots?date=2026-12-01')).status).toBe(200)
      expect((await get('/api/v1/experience/14/slots?date=2027-01-29')).status).toBe(200)
      expect((await get('/api/v1/experience/14/slots?date=2026-11-30')).body.error).toMatchObject({
        code: 'BAD_REQUEST',
        field: 'date',
        message: 'date: 2026-11-30 is in the past (today is 2026-12-01 in Asia/Singapore)',
      })
      expect((await get('/api/v1/experience/14/slots?date=2027-01-30')).body.error).toMatchObject({
        code: 'BAD_REQUEST',
        field: 'date',
        message: expect.stringContaining('beyond'),
      })
    })
    it('Los Angeles: still 2026-11-30, so 2027-01-29 is beyond', async () => {
      const r = await get('/api/v1/experience/21/slots?date=2026-11-30')
      expect(r.status).toBe(200)
      expect(r.body.slots[0].price).toEqual({ finalPrice: 70, currencyCode: 'USD', originalPrice: 70 })
      expect((await get('/api/v1/experience/21/slots?date=2027-01-29')).status).toBe(400)
    })
  })
})

describe('GET /api/v1/experience/:id/dates', () => {
  it('lists days with a slot left, ascending, at the lowest primary price among slots with something left', async () => {
    const r = await get('/api/v1/experience/14/dates')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      dates: [
        // 04:00 (100, sold out) does not count; 06:30 (ADULT 210.5) beats 08:00 (242.14).
        { date: '2026-12-01', price: { finalPrice: 210.5, currencyCode: 'SGD', originalPrice: 250 } },
        // 12-02 all sold out, 12-03 closed, 12-05 never fetched: absent.
        { date: '2026-12-04', price: { finalPrice: 15, currencyCode: 'SGD', originalPrice: 15 } },
        // The last day of the horizon (today + 59) is in, the day after is not; yesterday is not.
        { date: '2027-01-29', price: { finalPrice: 99.99, currencyCode: 'SGD', originalPrice: 99.99 } },
      ],
      // Coverage: every day of the horizon but the five written (12-05's fetch failed: still never fetched).
      pending: dayRange('2026-12-01', 60).filter((d) => !['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2027-01-29'].includes(d)),
      // 12-02's, 5 h ago; yesterday's older fetch is outside the horizon.
      oldestFetchedAt: at(5 * 60 * MIN).toISOString(),
    })
  })

  it('uses the product time zone for today and the last day', async () => {
    const r = await get('/api/v1/experience/21/dates')
    expect(r.body.dates.map((d: { date: string }) => d.date)).toEqual(['2026-11-30'])
  })

  it('agrees with /slots: each day price is the lowest slot price among slots with remaining > 0', async () => {
    const { body } = await get('/api/v1/experience/14/dates')
    for (const d of body.dates) {
      const day = await get(`/api/v1/experience/14/slots?date=${d.date}`)
      const open = day.body.slots.filter((s: { remaining: number }) => s.remaining > 0)
      const lowest = Math.min(...open.map((s: { price: { finalPrice: number } }) => s.price.finalPrice))
      expect(d.price.finalPrice).toBe(lowest)
    }
  })

  it('answers an empty list for a known product with nothing stored', async () => {
    const r = await get('/api/v1/experience/30/dates')
    expect(r).toMatchObject({ status: 200, body: { dates: [], oldestFetchedAt: null } })
    // Nothing known is not "all closed": every day says it is not known yet.
    expect(r.body.pending).toEqual(dayRange('2026-12-01', 60))
  })

  it('moves with the clock: a day later, today is 2026-12-02', async () => {
    api.clock.set(NOW + 24 * 60 * MIN)
    try {
      const { body } = await get('/api/v1/experience/14/dates')
      expect(body.dates.map((d: { date: string }) => d.date)).toEqual(['2026-12-04', '2027-01-29', '2027-01-30'])
    } finally {
      api.clock.set(NOW)
    }
  })
})

describe('with the read cache on', () => {
  it('serves what it read for the TTL (on the clock), then reads again; invalidate() forgets at once', async () => {
    const cached = await createTestApi({ db: api.db, now: NOW, cacheTtlMs: 1000 })
    const D = '2026-12-06'
    const read = async () => (await cached.app.inject({ url: `/api/v1/experience/14/slots?date=${D}` })).json()
    const dates = async () => (await cached.app.inject({ url: '/api/v1/experience/14/dates' })).json().dates.map((d: { date: string }) => d.date)
    try {
      expect((await read()).freshness.state).toBe('never')
      expect(await dates()).not.toContain(D)
      await seedDay(api.db, 14, D, [rawSlot(D, '04:00')], at(MIN))
      expect((await read()).freshness.state).toBe('never')
      expect(await dates()).not.toContain(D)
      cached.clock.advance(1000)
      expect((await read()).slots).toHaveLength(1)
      expect(await dates()).toContain(D)
      await seedDay(api.db, 14, D, [], at(0))
      expect((await read()).slots).toHaveLength(1)
      ;(cached.services.availability as CachingAvailabilityService).invalidate(14)
      expect((await read()).slots).toHaveLength(0)
      expect(await dates()).not.toContain(D)
    } finally {
      await cached.app.close()
    }
  })
})

describe('text and values from one read', () => {
  // REST sends a cached view's stored text, tRPC parses the same view: one read, two forms that must agree.
  it.each([0, 1000])('with a cache TTL of %i ms, /slots and /dates text is JSON.stringify of the service values', async (cacheTtlMs) => {
    const t = await createTestApi({ db: api.db, now: NOW, cacheTtlMs })
    try {
      const svc = t.services.availability
      for (const date of ['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-05']) {
        const rest = await t.app.inject({ url: `/api/v1/experience/14/slots?date=${date}` })
        expect(rest.statusCode).toBe(200)
        expect(rest.body).toBe(JSON.stringify(await svc.slots(14, date)))
        // Again: with the cache on, the value parsed above is kept with the view and served as is.
        expect(rest.body).toBe(JSON.stringify(await svc.slots(14, date)))
      }
      const dates = await t.app.inject({ url: '/api/v1/experience/14/dates' })
      expect(JSON.parse(dates.body).dates.length).toBeGreaterThan(1)
      expect(dates.body).toBe(JSON.stringify(await svc.dates(14)))
    } finally {
      await t.app.close()
    }
  })
})

describe('errors', () => {
  it.each([
    ['/api/v1/experience/abc/slots?date=2026-12-01', 'id'],
    ['/api/v1/experience/0/slots?date=2026-12-01', 'id'],
    ['/api/v1/experience/-3/slots?date=2026-12-01', 'id'],
    ['/api/v1/experience/1.5/slots?date=2026-12-01', 'id'],
    ['/api/v1/experience/1e3/slots?date=2026-12-01', 'id'],
    ['/api/v1/experience/2147483648/slots?date=2026-12-01', 'id'],
    ['/api/v1/experience/99999999999999999999999/slots?date=2026-12-01', 'id'],
    ['/api/v1/experience/abc/dates', 'id'],
    ['/api/v1/experience/0/dates', 'id'],
    ['/api/v1/experience/14/slots', 'date'],
    ['/api/v1/experience/14/slots?date=', 'date'],
    ['/api/v1/experience/14/slots?date=tomorrow', 'date'],
    ['/api/v1/experience/14/slots?date=2026-12-1', 'date'],
    ['/api/v1/experience/14/slots?date=2026-02-30', 'date'],
    ['/api/v1/experience/14/slots?date=2026-13-01', 'date'],
    ['/api/v1/experience/14/slots?date=2026-12-01&date=2026-12-02', 'date'],
    ['/api/v1/experience/14/slots?date[]=2026-12-01', 'date'],
    ['/api/v1/experience/14/slots?date=2020-01-01', 'date'],
    ['/api/v1/experience/14/slots?date=2099-01-01', 'date'],
  ])('%s → 400 naming %s', async (path, field) => {
    const r = await get(path)
    expect(r.status).toBe(400)
    expect(r.body).toEqual({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(new RegExp(`^${field}: `)), field } })
  })

  it('words the messages for people', async () => {
    expect((await get('/api/v1/experience/abc/dates')).body.error.message).toBe('id: must be a positive integer (1 to 2147483647)')
    expect((await get('/api/v1/experience/14/slots')).body.error.message).toBe('date: is required')
    expect((await get('/api/v1/experience/14/slots?date=2026-2-1')).body.error.message).toBe('date: must be a date written YYYY-MM-DD')
    expect((await get('/api/v1/experience/14/slots?date=2026-02-30')).body.error.message).toBe('date: is not a real calendar day')
  })

  it('answers 404 NOT_FOUND for an unknown product, on both routes', async () => {
    for (const path of ['/api/v1/experience/999/slots?date=2026-12-01', '/api/v1/experience/999/dates']) {
      const r = await get(path)
      expect(r.status).toBe(404)
      expect(r.body).toEqual({ error: { code: 'NOT_FOUND', message: 'no product 999' } })
    }
  })

  it.each(['/api/v1/experience/14', '/api/v1/experience/14/slots/extra', '/api/v2/experience/14/dates', '/nope'])(
    'answers 404 JSON for the unknown route %s',
    async (path) => {
      const r = await get(path)
      expect(r.status).toBe(404)
      expect(r.body.error.code).toBe('NOT_FOUND')
    },
  )

  it('answers 503 (not 500) when the database cannot be reached', async () => {
    // Nothing listens on port 1: every query fails to connect, as with Postgres down.
    const url = 'postgresql://nobody:nothing@127.0.0.1:1/gone'
    const gone = createDatabase(url)
    const down = await createTestApi({ db: { ...gone, url, directUrl: url, name: 'gone', drop: gone.close }, now: NOW })
    try {
      for (const path of ['/api/v1/experience/14/dates', '/api/v1/experience/14/slots?date=2026-12-01']) {
        const r = await down.app.inject({ url: path })
        expect(r.statusCode).toBe(503)
        expect(r.json()).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable; try again shortly' } })
      }
      expect((await down.app.inject({ url: '/ready' })).json()).toEqual({
        ready: false,
        database: false,
        migrations: false,
        // The kind of failure, never the message: it names the database's host and port.
        reason: 'the database is unreachable (DatabaseNotReachable)',
      })
    } finally {
      await down.app.close()
      await gone.close()
    }
  })
})
