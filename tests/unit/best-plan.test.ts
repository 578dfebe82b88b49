import { describe, expect, it } from 'vitest'
import { bestOverTime, bestShares, dailyNeeds } from '../../bench/best-plan.ts'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import type { Catalogue } from '../../server/sandbox/catalogue.ts'
import type { PartnerSlotInput } from '../../server/partner/schema.ts'

const TZ = 'Asia/Singapore'
const DAY = '2026-12-01'
const FROM = zonedTimeToInstant(DAY, '00:00', TZ)

/** Every product open every day, one slot whose start is `last` (the day's cut-off). */
function everyDay(products: number, last: string): Catalogue {
  const slot = { startTime: last } as unknown as PartnerSlotInput
  return { productIds: () => Array.from({ length: products }, (_, i) => i + 1), inventory: () => [slot] } as unknown as Catalogue
}

describe('best-plan: the best a planner could do with the budget', () => {
  it('serves the tiers in order from the day sums', () => {
    expect(bestShares({ today: 100, week: 100, month: 100, horizon: 100 }, 250)).toEqual({ today: 1, week: 1, month: 0.5, horizon: 0 })
  })

  it('counts today from midnight to the last slot, 6 a day for days 1–7 and 1 a day for days 8–30', () => {
    const needs = dailyNeeds(everyDay(2, '12:00'), [1, 2], DAY, TZ)
    expect(needs.today).toBe(2 * 48)
    expect(needs.week).toBe(2 * 7 * 6)
    expect(needs.month).toBe(2 * 23)
  })

  it('in time: nothing is left for days 1–7 while open todays take the whole key, though the day sums fit', () => {
    // 300 products open until 12:00 need 20/min from midnight: at 20/min nothing is left until noon.
    const cat = everyDay(300, '12:00')
    const ids = cat.productIds()
    const daily = bestShares(dailyNeeds(cat, ids, DAY, TZ), 20 * 1440)
    expect(daily.week).toBe(1)
    const morning = bestOverTime(cat, ids, { timeZone: TZ, from: FROM + 4 * 3_600_000, to: FROM + 12 * 3_600_000, sampleEveryMs: 300_000, perMinute: 20 })
    expect(morning.today).toBe(1)
    expect(morning.week).toBe(0)
    // From noon the whole key is free again: after 4 h every day 1–7 can be fresh (2,100 days, 4,800 requests).
    const afternoon = bestOverTime(cat, ids, { timeZone: TZ, from: FROM + 16 * 3_600_000, to: FROM + 20 * 3_600_000, sampleEveryMs: 300_000, perMinute: 20 })
    expect(afternoon.week).toBe(1)
  })

  it('in time: today short of budget is capped at what 15 minutes of the key can refresh', () => {
    const cat = everyDay(600, '23:00')
    const b = bestOverTime(cat, cat.productIds(), { timeZone: TZ, from: FROM, to: FROM + 6 * 3_600_000, sampleEveryMs: 300_000, perMinute: 30 })
    expect(b.today).toBeCloseTo(450 / 600, 6)
    // Yesterday's last hour (after its 23:00 cut-off) was free: 1,800 requests keep days 1–7 partly fresh until 04:00, none after.
    expect(b.week).toBeGreaterThan(0)
    const late = bestOverTime(cat, cat.productIds(), {
      timeZone: TZ,
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
  const o = { timeZone: TZ, from: FROM + 2 * 3_600_000, to: FROM + 4 * 3_600_000, sampleEveryMs: 300_000, perMinute: 29.5 }

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
  const at20 = { timeZone: TZ, from: FROM + 20 * 3_600_000, to: FROM + 20 * 3_600_000 + 1, sampleEveryMs: 300_000, perMinute: 29.5 }

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
