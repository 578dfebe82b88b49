import { describe, expect, it } from 'vitest'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { CLOSED_RECHECK_MS, REFRESH_LEAD_MS as LEAD, isPastCutoff, isWeekdayClosed, nextDueAfterFetch, rankDue, type Candidate, type DayAfterFetch } from '../../server/sync/planner.ts'
import { HOUR, MINUTE } from '../../server/sync/tiers.ts'

const TZ = 'Asia/Singapore'
const at = (date: string, time: string) => zonedTimeToInstant(date, time, TZ)
const TODAY = '2026-12-01' // a Tuesday
const NOW = at(TODAY, '10:00')

function day(over: Partial<DayAfterFetch> = {}): DayAfterFetch {
  return { date: TODAY, timeZone: TZ, outcome: 'ok', consecutiveFailures: 0, lastSlotStart: '17:00', totalRemaining: 100, previousTotalRemaining: 100, weekdayKnownClosed: false, ...over }
}

describe('nextDueAfterFetch: tiers', () => {
  // Each is due a little before its target age (REFRESH_LEAD_MS), so the wait for a request stays inside it.
  it('today is due again after 15 minutes', () => {
    expect(nextDueAfterFetch(day(), NOW, TODAY)).toBe(NOW + 15 * MINUTE - LEAD)
  })
  it('the next 7 days after 4 hours', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-04' }), NOW, TODAY)).toBe(NOW + 4 * HOUR - LEAD)
    expect(nextDueAfterFetch(day({ date: '2026-12-08' }), NOW, TODAY)).toBe(NOW + 4 * HOUR - LEAD)
  })
  it('days 8–59 daily', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-20' }), NOW, TODAY)).toBe(NOW + 24 * HOUR - LEAD)
    expect(nextDueAfterFetch(day({ date: '2027-01-29' }), NOW, TODAY)).toBe(NOW + 24 * HOUR - LEAD)
  })
  it('a day outside the horizon is never due while outside', () => {
    expect(nextDueAfterFetch(day({ date: '2026-11-30' }), NOW, TODAY)).toBeGreaterThan(NOW)
  })
})

describe('nextDueAfterFetch: tier promotion', () => {
  it('tomorrow is fetched in the last minutes before midnight, so it is fresh when it becomes today', () => {
    const late = at(TODAY, '22:00')
    expect(nextDueAfterFetch(day({ date: '2026-12-02' }), late, TODAY)).toBe(at('2026-12-02', '00:00') - 15 * MINUTE + LEAD)
    // Fetched inside that window: due again one "today" period later.
    const inWindow = at(TODAY, '23:50')
    expect(nextDueAfterFetch(day({ date: '2026-12-02' }), inWindow, TODAY)).toBe(inWindow + 15 * MINUTE - LEAD)
  })
  it('day 8 is fetched within 4 hours before it enters the 4-hour tier', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-09' }), at(TODAY, '12:00'), TODAY)).toBe(at('2026-12-02', '00:00') - 4 * HOUR + LEAD)
    const late = at(TODAY, '23:00')
    expect(nextDueAfterFetch(day({ date: '2026-12-09' }), late, TODAY)).toBe(late + 4 * HOUR - LEAD)
  })
  it('a known-closed weekday is not promoted', () => {
    const late = at(TODAY, '22:00')
    expect(nextDueAfterFetch(day({ date: '2026-12-02', outcome: 'empty', weekdayKnownClosed: true, lastSlotStart: null }), late, TODAY)).toBe(late + CLOSED_RECHECK_MS - LEAD)
  })
})

describe('nextDueAfterFetch: spending the budget where it matters', () => {
  it('a known-closed weekday is re-checked daily, even today', () => {
    expect(nextDueAfterFetch(day({ outcome: 'empty', weekdayKnownClosed: true, lastSlotStart: null }), NOW, TODAY)).toBeGreaterThanOrEqual(NOW + CLOSED_RECHECK_MS - LEAD)
    expect(nextDueAfterFetch(day({ date: '2026-12-03', outcome: 'empty', weekdayKnownClosed: true, lastSlotStart: null }), NOW, TODAY)).toBe(NOW + CLOSED_RECHECK_MS - LEAD)
  })
  it('an unexpectedly empty day keeps its tier', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-03', outcome: 'empty', lastSlotStart: null }), NOW, TODAY)).toBe(NOW + 4 * HOUR - LEAD)
  })
  it('today stops being refreshed once its last slot has started', () => {
    const endOfToday = at('2026-12-02', '00:00')
    expect(nextDueAfterFetch(day({ lastSlotStart: '10:05' }), NOW, TODAY)).toBe(endOfToday)
    expect(nextDueAfterFetch(day({ lastSlotStart: '09:00' }), NOW, TODAY)).toBe(endOfToday)
    expect(nextDueAfterFetch(day({ lastSlotStart: '10:30' }), NOW, TODAY)).toBe(NOW + 15 * MINUTE - LEAD)
  })
  it('the cut-off applies only to today', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-03', lastSlotStart: '04:00' }), NOW, TODAY)).toBe(NOW + 4 * HOUR - LEAD)
  })
  it('a day selling out is refreshed twice as often', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-03', totalRemaining: 80, previousTotalRemaining: 100 }), NOW, TODAY)).toBe(NOW + 2 * HOUR - LEAD)
    expect(nextDueAfterFetch(day({ date: '2026-12-03', totalRemaining: 95, previousTotalRemaining: 100 }), NOW, TODAY)).toBe(NOW + 4 * HOUR - LEAD)
  })
})

describe('nextDueAfterFetch: failures', () => {
  it('backs off exponentially from a minute, capped at the tier target', () => {
    const f = (n: number, date = '2026-12-03') => nextDueAfterFetch(day({ date, outcome: 'error', consecutiveFailures: n }), NOW, TODAY) - NOW
    expect(f(1)).toBe(1 * MINUTE)
    expect(f(2)).toBe(2 * MINUTE)
    expect(f(5)).toBe(16 * MINUTE)
    expect(f(40)).toBe(4 * HOUR)
    expect(f(40, TODAY)).toBe(15 * MINUTE)
  })
  it('a rate-limited fetch waits for the reset', () => {
    expect(nextDueAfterFetch(day({ outcome: 'rate_limited', retryAt: NOW + 42_000 }), NOW, TODAY)).toBe(NOW + 42_000)
  })
})

describe('rankDue', () => {
  const todayOf = () => TODAY
  const cand = (over: Partial<Candidate>): Candidate => ({ productId: 1, date: TODAY, timeZone: TZ, nextDueAt: NOW, forcedAt: null, lastSlotStart: null, lastFetchedAt: null, ...over })

  it('puts "run now" first, oldest request first', () => {
    const r = rankDue([cand({ productId: 1 }), cand({ productId: 2, forcedAt: NOW - 5, date: '2027-01-20', nextDueAt: NOW + HOUR }), cand({ productId: 3, forcedAt: NOW - 10, date: '2027-01-20' })], NOW, todayOf)
    expect(r.map((c) => c.productId)).toEqual([3, 2, 1])
  })
  it('skips pairs not yet due', () => {
    expect(rankDue([cand({ nextDueAt: NOW + 1 })], NOW, todayOf)).toEqual([])
  })
  it('orders by lateness relative to the tier target, near days weighted up', () => {
    const r = rankDue(
      [
        cand({ productId: 1, date: '2026-12-20', nextDueAt: NOW - 6 * HOUR }), // month tier, 0.25 late ×1 → 1.25
        cand({ productId: 2, date: TODAY, nextDueAt: NOW - 1 * MINUTE }), // today, ×4 → ~4.27
        cand({ productId: 3, date: '2026-12-03', nextDueAt: NOW - 4 * HOUR }), // week, 1 late ×2 → 4
      ],
      NOW,
      todayOf,
    )
    expect(r.map((c) => c.productId)).toEqual([2, 3, 1])
  })
  it('lets a long-starved far day overtake a just-due today (aging)', () => {
    const r = rankDue([cand({ productId: 1, date: TODAY, nextDueAt: NOW }), cand({ productId: 2, date: '2027-01-20', nextDueAt: NOW - 8 * 24 * HOUR })], NOW, todayOf)
    expect(r[0]!.productId).toBe(2)
  })
  it('drops today pairs past their last slot and days outside the horizon', () => {
    const r = rankDue(
      [cand({ productId: 1, lastSlotStart: '09:30', lastFetchedAt: NOW - HOUR }), cand({ productId: 2, date: '2026-11-30' }), cand({ productId: 3, date: '2027-01-31' })],
      NOW,
      todayOf,
    )
    expect(r).toEqual([])
  })
})

describe('cut-off and closed weekdays', () => {
  it('isPastCutoff needs a known last slot of today', () => {
    const c = { date: TODAY, timeZone: TZ, lastSlotStart: '09:00', lastFetchedAt: NOW - HOUR }
    expect(isPastCutoff(c, 0, NOW)).toBe(true)
    expect(isPastCutoff({ ...c, lastFetchedAt: null }, 0, NOW)).toBe(false)
    expect(isPastCutoff({ ...c, lastSlotStart: null }, 0, NOW)).toBe(false)
    expect(isPastCutoff(c, 1, NOW)).toBe(false)
  })
  it('learns a closed weekday from two or more empty days and no open one', () => {
    expect(isWeekdayClosed(undefined)).toBe(false)
    expect(isWeekdayClosed({ open: 0, empty: 1 })).toBe(false)
    expect(isWeekdayClosed({ open: 0, empty: 2 })).toBe(true)
    expect(isWeekdayClosed({ open: 1, empty: 7 })).toBe(false)
  })
})

describe('time zones', () => {
  it('cut-off is in the product zone', () => {
    const ny = 'America/New_York'
    const nowNy = zonedTimeToInstant('2026-12-01', '18:00', ny)
    const d = day({ date: '2026-12-01', timeZone: ny, lastSlotStart: '17:00' })
    expect(nextDueAfterFetch(d, nowNy, '2026-12-01')).toBe(zonedTimeToInstant('2026-12-02', '00:00', ny))
  })
})
