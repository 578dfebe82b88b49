import { describe, expect, it } from 'vitest'
import { bestOverTime, bestShares, catalogueDays, dailyNeeds, leftAfterToday } from '../../bench/best-plan.ts'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import type { Catalogue } from '../../server/sandbox/catalogue.ts'
import type { PartnerSlotInput } from '../../server/partner/schema.ts'

const TZ = 'Asia/Singapore'
const DAY = '2026-12-01'
const FROM = zonedTimeToInstant(DAY, '00:00', TZ)

/** Every product open every day, one slot whose start is `last` (the day's cut-off). */
function everyDay(products: number, last: string): Catalogue {
  const slot = { startTime: last } as unknown as PartnerSlotInput
  return { productIds: () => Array.from({ length: products }, (_, i) => i + 1), timeZone: () => TZ, inventory: () => [slot] } as unknown as Catalogue
}

describe('best-plan: the best a planner could do with the budget', () => {
  it('serves the tiers in order from the day sums', () => {
    expect(bestShares({ today: 100, week: 100, month: 100, horizon: 100 }, 250)).toEqual({ today: 1, week: 1, month: 0.5, horizon: 0 })
  })

  it('counts today from midnight to the last slot, 6 a day for days 1–7 and 1 a day for days 8–30', () => {
    const needs = dailyNeeds(everyDay(2, '12:00'), [1, 2], DAY)
    expect(needs.today).toBe(2 * 48)
    expect(needs.week).toBe(2 * 7 * 6)
    expect(needs.month).toBe(2 * 23)
  })

  it('in time: nothing is left for days 1–7 while open todays take the whole key, though the day sums fit', () => {
    // 300 products open until 12:00 need 20/min from midnight: at 20/min nothing is left until noon.
    const cat = everyDay(300, '12:00')
    const ids = cat.productIds()
    const daily = bestShares(dailyNeeds(cat, ids, DAY), 20 * 1440)
    expect(daily.week).toBe(1)
    const morning = bestOverTime(cat, ids, { from: FROM + 4 * 3_600_000, to: FROM + 12 * 3_600_000, sampleEveryMs: 300_000, perMinute: 20 })
    expect(morning.today).toBe(1)
    expect(morning.week).toBe(0)
    // From noon the whole key is free again: after 4 h every day 1–7 can be fresh (2,100 days, 4,800 requests).
    const afternoon = bestOverTime(cat, ids, { from: FROM + 16 * 3_600_000, to: FROM + 20 * 3_600_000, sampleEveryMs: 300_000, perMinute: 20 })
    expect(afternoon.week).toBe(1)
  })

  it('in time: today short of budget is capped at what 15 minutes of the key can refresh', () => {
    const cat = everyDay(600, '23:00')
    const b = bestOverTime(cat, cat.productIds(), { from: FROM, to: FROM + 6 * 3_600_000, sampleEveryMs: 300_000, perMinute: 30 })
    expect(b.today).toBeCloseTo(450 / 600, 6)
    // Yesterday's last hour (after its 23:00 cut-off) was free: 1,800 requests keep days 1–7 partly fresh until 04:00, none after.
    expect(b.week).toBeGreaterThan(0)
    const late = bestOverTime(cat, cat.productIds(), {
      from: FROM + 4 * 3_600_000,
      to: FROM + 6 * 3_600_000,
      sampleEveryMs: 300_000,
      perMinute: 30,
    })
    expect(late.week).toBe(0)
  })
})

describe('best-plan: today is paid for from 15 minutes before midnight', () => {
  // 400 products open every day until 10:00 at 29.5/min: from midnight today's 26.7/min leaves 2.8/min for days 1–7.
  const cat = everyDay(400, '10:00')
  const ids = cat.productIds()
  const o = { from: FROM + 2 * 3_600_000, to: FROM + 4 * 3_600_000, sampleEveryMs: 300_000, perMinute: 29.5 }

  it('charges tomorrow’s open days in the last 15 min before midnight, so fewer days 1–7 stay fresh after it', () => {
    // At 03:00 days 1–7 (2,800 open) live on the 4 h since 23:00, partly fresh under either bound.
    const at3 = { ...o, from: FROM + 3 * 3_600_000, to: FROM + 3 * 3_600_000 + 1 }
    const loose = bestOverTime(cat, ids, { ...at3, todayFromMidnight: true })
    const corrected = bestOverTime(cat, ids, at3)
    expect(corrected.today).toBe(loose.today)
    expect(loose.week).toBeLessThan(1)
    // The 400 requests tomorrow's todays take before midnight are 400 fewer days 1–7 fresh.
    expect((loose.week - corrected.week) * 2800).toBeCloseTo(400, 6)
  })

  it('leaves the bound alone where the 15 min before midnight are more than 4 h back', () => {
    const late = { ...o, from: FROM + 5 * 3_600_000, to: FROM + 7 * 3_600_000 }
    expect(bestOverTime(cat, ids, late)).toEqual(bestOverTime(cat, ids, { ...late, todayFromMidnight: true }))
  })
})

describe('best-plan: days 8–30 with days 1–7 at their bound first', () => {
  const at20 = { from: FROM + 20 * 3_600_000, to: FROM + 20 * 3_600_000 + 1, sampleEveryMs: 300_000, perMinute: 29.5 }

  it('gives days 8–30 what is left after the least days 1–7 must take to be at their bound at every instant of the day before', () => {
    // 400 open until 18:00 (today asks 26.7/min, leaving 2.8/min until 18:00), 2,800 days 1–7, 9,200 days 8–30.
    // At 20:00 the day before holds 13,243 requests beyond today: 6,679 in 20:00–24:00, 3,024 in 00:00–18:00, 3,540 in 18:00–20:00.
    // Days 1–7 must take: every request of 00:00–18:00 (their bound is short there, 672 per 4 h);
    // 2,800 in 20:00–24:00 (2,464 of them after 22:00, for 02:00's bound, and all of 23:00–24:00, for 03:00's);
    // and in 18:00–20:00 all until ~19:20, when the last 4 h can hold 2,800, then 2.8/min: ~2,470.
    // Left for days 8–30: ~4,950 of 9,200.
    const cat = everyDay(400, '18:00')
    const b = bestOverTime(cat, cat.productIds(), at20)
    expect(b.monthAfterWeek * 9200).toBeGreaterThan(4900)
    expect(b.monthAfterWeek * 9200).toBeLessThan(5000)
  })

  it('is the loose bound where days 1–7 are never short for long enough to take days 8–30’s share', () => {
    const cat = everyDay(100, '18:00')
    const b = bestOverTime(cat, cat.productIds(), at20)
    expect(b.week).toBe(1)
    expect(b.monthAfterWeek).toBe(b.month)
  })
})

describe("best-plan: each product on its own zone's calendar", () => {
  // Two zones 12 h apart (UTC+6 and UTC−6; "Etc/GMT-6" is UTC+6), 15 products each, open every day to a 06:00 last slot.
  const EAST = 'Etc/GMT-6'
  const WEST = 'Etc/GMT+6'
  const slot = { startTime: '06:00' } as unknown as PartnerSlotInput
  const twoZones = (west: string) =>
    ({
      productIds: () => Array.from({ length: 30 }, (_, i) => i + 1),
      timeZone: (id: number) => (id <= 15 ? EAST : west),
      inventory: () => [slot],
    }) as unknown as Catalogue
  const UTC0 = zonedTimeToInstant(DAY, '00:00', 'UTC')
  const at = (hhmm: string) => UTC0 + Number(hhmm.slice(0, 2)) * 3_600_000 + Number(hhmm.slice(3)) * 60_000

  it("today's need comes at each zone's own midnight: twice a day for two zones 12 h apart", () => {
    const days = catalogueDays(twoZones(WEST), twoZones(WEST).productIds())
    expect(days.zones).toEqual([EAST, WEST])
    // 19:00 UTC: 01:00 in the east (before its 06:00 cut-off), 13:00 in the west (past it).
    expect(days.todayNeed(at('19:00'))).toBe(15)
    // 07:00 UTC: 13:00 east, 01:00 west.
    expect(days.todayNeed(at('07:00'))).toBe(15)
    // 13:00 UTC: 19:00 east, 07:00 west: no open today anywhere.
    expect(days.todayNeed(at('13:00'))).toBe(0)
    // 17:50 UTC: the east's midnight is 10 min away, so its tomorrow is paid for now.
    expect(days.todayNeed(at('17:50'))).toBe(15)
    // Days 1–7 and 8–30 count in each zone's own calendar: 7 and 23 open days per product.
    expect(days.counts(at('19:00'))).toEqual({ today: 15, week: 30 * 7, month: 30 * 23 })
    // At 2/min, 15 days due every 15 min take 1/min: the key is halved in two spans of 6 h 15 min a day.
    const l1 = leftAfterToday(days, UTC0, 1440, 2)
    const halved = l1.slice(0, 1440).filter((x) => x < 2)
    expect(halved.length).toBe(2 * 375)
    expect(l1[Math.round((at('19:00') - UTC0) / 60_000)]).toBe(1)
    expect(l1[Math.round((at('07:00') - UTC0) / 60_000)]).toBe(1)
    expect(l1[Math.round((at('13:00') - UTC0) / 60_000)]).toBe(2)
  })

  it('one zone: the same products ask as much in a day, all in one span', () => {
    const one = twoZones(EAST)
    const days = catalogueDays(one, one.productIds())
    const l1 = leftAfterToday(days, UTC0, 1440, 2)
    // 30 days due every 15 min take the whole 2/min, once a day.
    expect(l1.slice(0, 1440).filter((x) => x < 2).length).toBe(375)
    expect(l1[Math.round((at('19:00') - UTC0) / 60_000)]).toBe(0)
    expect(dailyNeeds(one, one.productIds(), DAY).today).toBe(dailyNeeds(twoZones(WEST), one.productIds(), DAY).today)
  })

  it('days 1–7 get what each zone leaves: spreading the midnights lifts their bound', () => {
    // 22:00–24:00 UTC is 04:00–06:00 in the east. At 2/min one zone's 30 todays take the whole key from 23:45
    // local, so after 4 h of that no day 1–7 can be fresh; two zones' 15 take half, and 4 h of 1/min (240)
    // covers the 210 days 1–7.
    const o = { from: at('22:00'), to: at('24:00'), sampleEveryMs: 300_000, perMinute: 2 }
    expect(bestOverTime(twoZones(EAST), twoZones(EAST).productIds(), o).week).toBe(0)
    expect(bestOverTime(twoZones(WEST), twoZones(WEST).productIds(), o).week).toBe(1)
  })
})
