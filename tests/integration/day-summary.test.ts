import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays } from '../../server/calendar/days.ts'
import type { PartnerSlotInput } from '../../server/partner/schema.ts'
import { createTestApi, seedDay, type TestApi } from '../helpers/api.ts'
import { rawSlot } from '../helpers/partner-data.ts'

// 10:00 in Singapore on 2026-12-01.
const NOW = Date.parse('2026-12-01T02:00:00Z')
const TODAY = '2026-12-01'
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000)

type Pax = PartnerSlotInput['paxAvailability'][number]
const pax = (type: string, finalPrice: number, over: Partial<Pax> = {}, currencyCode = 'SGD'): Pax => ({
  type,
  name: type,
  description: '',
  min: 0,
  max: 10,
  remaining: 10,
  price: { discount: 0, finalPrice, originalPrice: finalPrice, currencyCode },
  ...over,
})
const slot = (date: string, startTime: string, paxAvailability: Pax[], remaining = 5) => rawSlot(date, startTime, { paxAvailability, remaining })

let api: TestApi
beforeAll(async () => {
  api = await createTestApi({ now: NOW })
  await api.db.prisma.product.createMany({ data: [{ id: 14 }, { id: 15 }, { id: 16 }] })
})
afterAll(async () => api?.close())

const json = async (url: string) => {
  const r = await api.app.inject({ url })
  expect(r.statusCode).toBe(200)
  return r.json()
}
const openDates = async (id: number) =>
  (await json(`/api/v1/experience/${id}/dates`)).dates as { date: string; price: { finalPrice: number; currencyCode: string; originalPrice: number } }[]

async function summary(productId: number, date: string) {
  const rows = await api.db.prisma.$queryRaw<Record<string, unknown>[]>`
    SELECT open, lowest_final_price::text AS "final", lowest_original_price::text AS "original", lowest_currency AS currency,
           slot_count AS "slotCount", total_remaining AS "totalRemaining", fetched_at AS "fetchedAt"
    FROM day_summary WHERE product_id = ${productId} AND date = ${date}::date`
  return rows[0]
}

describe('the day summary the snapshot writer stores', () => {
  it('a closed day (an empty answer) is stored as not open: /dates leaves it out, /slots says it was fetched', async () => {
    const d = addDays(TODAY, 1)
    await seedDay(api.db, 14, d, [slot(d, '04:00', [pax('ADULT', 10)])], at(30))
    expect((await openDates(14)).map((x) => x.date)).toContain(d)
    await seedDay(api.db, 14, d, [], at(10))
    expect(await summary(14, d)).toEqual({ open: false, final: null, original: null, currency: null, slotCount: 0, totalRemaining: 0, fetchedAt: at(10) })
    expect((await openDates(14)).map((x) => x.date)).not.toContain(d)
    expect(await json(`/api/v1/experience/14/slots?date=${d}`)).toMatchObject({ slots: [], freshness: { fetchedAt: at(10).toISOString() } })
  })

  it('sold-out slots do not count; the day closes when the last seat goes, and reopens', async () => {
    const d = addDays(TODAY, 2)
    await seedDay(api.db, 14, d, [slot(d, '04:00', [pax('ADULT', 5)], 0), slot(d, '05:00', [pax('ADULT', 40)], 3)], at(30))
    expect(await summary(14, d)).toMatchObject({ open: true, final: '40.00', totalRemaining: 3, slotCount: 2 })
    await seedDay(api.db, 14, d, [slot(d, '04:00', [pax('ADULT', 5)], 0), slot(d, '05:00', [pax('ADULT', 40)], 0)], at(20))
    expect(await summary(14, d)).toMatchObject({ open: false, final: null, totalRemaining: 0 })
    expect((await openDates(14)).map((x) => x.date)).not.toContain(d)
    await seedDay(api.db, 14, d, [slot(d, '04:00', [pax('ADULT', 5)], 1), slot(d, '05:00', [pax('ADULT', 40)], 0)], at(10))
    expect((await openDates(14)).find((x) => x.date === d)?.price).toEqual({ finalPrice: 5, currencyCode: 'SGD', originalPrice: 5 })
  })

  it('slots without pax types have no price and do not open a day', async () => {
    const d = addDays(TODAY, 3)
    await seedDay(api.db, 14, d, [slot(d, '04:00', [], 9)], at(5))
    expect(await summary(14, d)).toMatchObject({ open: false, slotCount: 1, totalRemaining: 9 })
    expect((await json(`/api/v1/experience/14/slots?date=${d}`)).slots[0]).toMatchObject({ price: null, paxAvailability: [] })
  })

  it('a price change on a pax type alone moves the slot price and the day price', async () => {
    const d = addDays(TODAY, 4)
    await seedDay(api.db, 14, d, [slot(d, '04:00', [pax('ADULT', 50), pax('CHILD', 20)])], at(30))
    await seedDay(api.db, 14, d, [slot(d, '04:00', [pax('ADULT', 45.5), pax('CHILD', 20)])], at(10))
    expect((await json(`/api/v1/experience/14/slots?date=${d}`)).slots[0].price).toEqual({ finalPrice: 45.5, currencyCode: 'SGD', originalPrice: 45.5 })
    expect((await openDates(14)).find((x) => x.date === d)?.price.finalPrice).toBe(45.5)
    expect(await summary(14, d)).toMatchObject({ final: '45.50', fetchedAt: at(10) })
  })

  it('multi-currency: the lowest number wins, ties by original price then currency', async () => {
    const d = addDays(TODAY, 5)
    await seedDay(
      api.db,
      14,
      d,
      [
        slot(d, '04:00', [pax('ADULT', 12, {}, 'USD')]),
        slot(d, '05:00', [pax('ADULT', 10, { price: { discount: 0, finalPrice: 10, originalPrice: 14, currencyCode: 'SGD' } })]),
        slot(d, '06:00', [pax('ADULT', 10, { price: { discount: 0, finalPrice: 10, originalPrice: 11, currencyCode: 'USD' } })]),
        slot(d, '07:00', [pax('ADULT', 10, { price: { discount: 0, finalPrice: 10, originalPrice: 11, currencyCode: 'EUR' } })]),
      ],
      at(5),
    )
    expect((await openDates(14)).find((x) => x.date === d)?.price).toEqual({ finalPrice: 10, currencyCode: 'EUR', originalPrice: 11 })
  })

  it('a failed fetch leaves the summary as the last good answer left it', async () => {
    const d = addDays(TODAY, 6)
    await seedDay(api.db, 14, d, [slot(d, '04:00', [pax('ADULT', 7)])], at(30))
    const before = await summary(14, d)
    await api.db.prisma.$executeRaw`UPDATE day_fetch_state SET last_attempt_at = now(), last_outcome = 'error' WHERE product_id = 14 AND date = ${d}::date`
    expect(await summary(14, d)).toEqual(before)
  })

  it('/dates reads only the horizon: a summary of yesterday or of today + 60 is not listed', async () => {
    for (const d of [addDays(TODAY, -1), addDays(TODAY, 60), TODAY, addDays(TODAY, 59)])
      await seedDay(api.db, 15, d, [slot(d, '23:00', [pax('ADULT', 3)])], at(5))
    expect((await openDates(15)).map((x) => x.date)).toEqual([TODAY, addDays(TODAY, 59)])
  })

  it('/slots lists the stored primary first, then the rest in code point order, money as JSON numbers', async () => {
    const d = addDays(TODAY, 7)
    await seedDay(
      api.db,
      14,
      d,
      [
        slot(d, '04:00', [pax('b', 1), pax('C', 180.5), pax('ZZZ', 9999999999.99, { isPrimary: true }), pax('ADULT', 0)]),
        slot(d, '05:00', [pax('b', 3), pax('C', 2), pax('a', 2)]),
      ],
      at(5),
    )
    const [first, second] = (await json(`/api/v1/experience/14/slots?date=${d}`)).slots
    expect(first.paxAvailability.map((p: { type: string }) => p.type)).toEqual(['ZZZ', 'ADULT', 'C', 'b'])
    expect(first.paxAvailability.map((p: { price: { finalPrice: number } }) => p.price.finalPrice)).toEqual([9999999999.99, 0, 180.5, 1])
    expect(first.price).toEqual({ finalPrice: 9999999999.99, currencyCode: 'SGD', originalPrice: 9999999999.99 })
    // Nothing flagged, no ADULT: the cheapest, a price tie broken by type (code point order: 'C' < 'a').
    expect(second.paxAvailability.map((p: { type: string }) => p.type)).toEqual(['C', 'a', 'b'])
    expect(second.price.finalPrice).toBe(2)
  })

  it('goes with its day: pruning the fetch state and removing the product delete the summary rows', async () => {
    const days = [TODAY, addDays(TODAY, 1)]
    for (const d of days) await seedDay(api.db, 16, d, [slot(d, '04:00', [pax('ADULT', 3)])], at(5))
    const count = async () => (await api.db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM day_summary WHERE product_id = 16`)[0]!.n
    expect(await count()).toBe(2)
    await api.db.prisma.$executeRaw`DELETE FROM day_fetch_state WHERE product_id = 16 AND date = ${TODAY}::date`
    expect(await count()).toBe(1)
    await api.services.catalogue.remove(16)
    expect(await count()).toBe(0)
    expect((await api.app.inject({ url: '/api/v1/experience/16/dates' })).statusCode).toBe(404)
  })
})
