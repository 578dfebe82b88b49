import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSlotsyncClient } from '../../sdk/src/index.ts'
import { addDays, dayRange } from '../../server/calendar/days.ts'
import { horizonAt } from '../../server/calendar/horizon.ts'
import { applyMigrations } from '../../server/db/migrate.ts'
import { octoCalendar } from '../../server/octo/mapping.ts'
import type { PartnerSlotInput } from '../../server/partner/schema.ts'
import { seededRandom } from '../../server/sandbox/rng.ts'
import { recordFetchFailure } from '../../server/sync/snapshot.ts'
import { seedDay } from '../helpers/api.ts'
import { calendarDaysOf } from '../helpers/calendar-days.ts'
import { createOctoTestApi, seedCatalogue, type OctoTestApi } from '../helpers/octo.ts'
import { rawSlot } from '../helpers/partner-data.ts'

/**
 * Coverage on every face (issue 27): a day never fetched must not read as a
 * closed one through /dates, tRPC and the SDK, /slots or the OCTO calendar;
 * and the calendar, now read from one stored row per day (day_calendar,
 * written by a trigger from the day's stored /slots text), must answer what
 * the mapping of every stored slot answered.
 */
const NOW = Date.parse('2026-12-01T02:00:00Z')
const TZ = 'Asia/Singapore'
const { today: TODAY, last: LAST } = horizonAt(NOW, TZ)
const MIGRATION = '20261212090000_coverage_reads'
const KEY = 'coverage-test-key'

const OPEN = addDays(TODAY, 1)
const CLOSED = addDays(TODAY, 2) // fetched: the partner had nothing
const FAILED = addDays(TODAY, 3) // only a failed fetch: never fetched
const UNTOUCHED = addDays(TODAY, 4)

// Types and prices that make the per-unit rule's corners: ties on the final
// price broken by the original, then by slot order; two currencies; sold-out slots.
const TYPES = ['ADULT_12~99', 'CHILD_3~11', 'adult', 'B', 'a', '😀KID']
const PRICES = [0, 0.5, 10, 10, 12.34, 99.99, 100]
function trickyDay(date: string, r: () => number): PartnerSlotInput[] {
  return Array.from({ length: Math.floor(r() * 6) }, (_, i) => ({
    startDate: date,
    startTime: `${String(10 + i)}:00`,
    endTime: `${String(10 + i)}:30`,
    providerSlotId: `T${5 - i}`, // not in start order: the rule's "first" is the day's slot order
    remaining: r() < 0.4 ? 0 : Math.floor(r() * 50),
    currencyCode: 'SGD',
    variantId: 1,
    paxAvailability: TYPES.filter(() => r() < 0.5).map((type) => {
      const finalPrice = PRICES[Math.floor(r() * PRICES.length)]!
      const currencyCode = r() < 0.2 ? 'USD' : 'SGD'
      return {
        type,
        name: type,
        description: '',
        isPrimary: false,
        min: 0,
        max: 9,
        remaining: 5,
        price: { discount: 0, finalPrice, originalPrice: finalPrice + (r() < 0.5 ? 0 : 1), currencyCode },
      }
    }),
  }))
}

let api: OctoTestApi
beforeAll(async () => {
  api = await createOctoTestApi({ now: NOW, keys: [KEY] })
  await api.db.prisma.product.createMany({ data: [{ id: 14 }, { id: 40 }, { id: 41 }] })
  await seedCatalogue(api.db, 14, TODAY, 60, NOW)
  await seedDay(api.db, 40, OPEN, [rawSlot(OPEN, '09:00')], new Date(NOW - 3_600_000))
  await seedDay(api.db, 40, CLOSED, [], new Date(NOW - 60_000))
  await recordFetchFailure(api.db.prisma, { productId: 40, date: FAILED, at: new Date(NOW), outcome: 'error', error: 'partner 502', nextDueAt: new Date(NOW) })
  const r = seededRandom(27)
  for (const date of dayRange(TODAY, 60)) if (r() < 0.8) await seedDay(api.db, 41, date, trickyDay(date, r), new Date(NOW))
}, 120_000)
afterAll(async () => api?.close())

const body = (r: { statusCode: number; body: string }) => {
  expect(r.statusCode).toBe(200)
  return JSON.parse(r.body)
}
const calendar = async (productId: number, from = TODAY, to = LAST) =>
  body(
    await api.octo(
      'POST',
      '/octo/availability/calendar',
      { productId: String(productId), optionId: 'DEFAULT', localDateStart: from, localDateEnd: to },
      { capabilities: 'octo/pricing' },
    ),
  )

describe('a day never fetched is not a closed day, on any face', () => {
  it('/dates (REST, and tRPC through the SDK) lists it as pending; the closed day is neither listed nor pending', async () => {
    const rest = body(await api.inject({ url: '/api/v1/experience/40/dates' }))
    expect(rest.dates.map((d: { date: string }) => d.date)).toEqual([OPEN])
    expect(rest.pending).toEqual(dayRange(TODAY, 60).filter((d) => d !== OPEN && d !== CLOSED))
    expect(rest.pending).toEqual(expect.arrayContaining([FAILED, UNTOUCHED]))
    expect(rest.oldestFetchedAt).toBe(new Date(NOW - 3_600_000).toISOString())

    const url = await api.app.listen({ port: 0, host: '127.0.0.1' })
    try {
      expect(await createSlotsyncClient({ url }).availability.dates.query({ productId: 40 })).toEqual(rest)
    } finally {
      await api.app.server.close()
    }
  })

  it('/slots says "never" for it and "fresh" with no slots for the closed day', async () => {
    for (const d of [FAILED, UNTOUCHED])
      expect(body(await api.inject({ url: `/api/v1/experience/40/slots?date=${d}` })).freshness).toEqual({ fetchedAt: null, state: 'never' })
    const closed = body(await api.inject({ url: `/api/v1/experience/40/slots?date=${CLOSED}` }))
    expect(closed).toMatchObject({ slots: [], freshness: { state: 'fresh' } })
  })

  it('the OCTO calendar leaves it out and calls only the fetched empty day CLOSED', async () => {
    const days = await calendar(40, TODAY, UNTOUCHED)
    expect(days.map((d: { localDate: string; status: string }) => [d.localDate, d.status])).toEqual([
      [OPEN, 'AVAILABLE'],
      [CLOSED, 'CLOSED'],
    ])
    // Beyond the horizon stays CLOSED: that is known.
    expect((await calendar(40, LAST, addDays(LAST, 1))).map((d: { status: string }) => d.status)).toEqual(['CLOSED'])
    // A product nothing was fetched for: no day at all, not 60 closed ones.
    await api.db.prisma.product.create({ data: { id: 42 } })
    expect(await calendar(42)).toEqual([])
  })
})

describe('the calendar from stored day rows', () => {
  // The reference: the mapping of every stored slot of the range by the TypeScript rule (lowestUnitRows).
  async function fromSlots(productId: number) {
    const range = (await api.availability.range(productId, TODAY, LAST))!
    const fetched = await api.db.prisma.$queryRaw<{ d: string }[]>`SELECT date::text AS d FROM day_summary WHERE product_id = ${productId}`
    return octoCalendar(
      {
        horizon: range.horizon,
        days: calendarDaysOf(
          range.slots,
          fetched.map((f) => f.d),
        ),
      },
      TODAY,
      LAST,
      { pricing: true },
    )
  }

  it.each([14, 41])('answers, for product %i, what the mapping of every stored slot answers', async (productId) => {
    const expected = await fromSlots(productId)
    expect(expected.some((d) => d.status === 'AVAILABLE')).toBe(true)
    expect(await calendar(productId)).toEqual(expected)
  })

  it('follows a rewrite of the day (the trigger updates the row)', async () => {
    const d = addDays(TODAY, 5)
    await seedDay(api.db, 40, d, [rawSlot(d, '09:00', { remaining: 3 })], new Date(NOW))
    expect((await calendar(40, d, d))[0]).toMatchObject({ status: 'AVAILABLE', vacancies: 3 })
    await seedDay(api.db, 40, d, [rawSlot(d, '09:00', { remaining: 0 })], new Date(NOW + 1000))
    expect((await calendar(40, d, d))[0]).toMatchObject({ status: 'SOLD_OUT', vacancies: 0, available: false })
  })

  it('an upgraded database gets the rows from its stored days (the migration backfill), equal to what the trigger wrote', async () => {
    const rows = () => api.db.prisma.$queryRaw<unknown[]>`SELECT * FROM day_calendar ORDER BY product_id, date`
    const written = await rows()
    const answers = async () => Promise.all([14, 40, 41].map((id) => calendar(id)))
    const served = await answers()
    await api.db.prisma.$executeRawUnsafe(`
      DROP TABLE day_calendar;
      DROP FUNCTION day_calendar_write() CASCADE;
      DROP FUNCTION day_calendar_row(text);
      DROP FUNCTION availability_calendar(integer, date, date);
      DELETE FROM "_prisma_migrations" WHERE migration_name = '${MIGRATION}';`)
    expect((await applyMigrations(api.db.url)).applied).toEqual([MIGRATION])
    expect(await rows()).toEqual(written)
    expect(await answers()).toEqual(served)
  })
})
