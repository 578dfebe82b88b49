import { describe, expect, it } from 'vitest'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { isPastCutoff } from '../../server/sync/due.ts'
import {
  CLOSED_RECHECK_MS,
  EMPTY_TODAY_RECHECK_MS,
  EMPTY_WEEK_RECHECK_MS,
  FAR_CLOSED_RECHECK_MS,
  crunchAhead,
  MAX_SWEEP_MS,
  planContext,
  sweepSpanMs,
  WEEK_SWEEP_MS,
  isWeekdayClosed,
  nextDueAfterFetch,
  rankDue,
  SWEEP_DEFER_MS,
  type Candidate,
  type DayAfterFetch,
} from '../../server/sync/planner.ts'
import { HOUR, MINUTE, TIERS } from '../../server/sync/tiers.ts'

// Each tier is due a little before its target age (its leadMs), so the wait for a request stays inside it.
const [T, W, M, H] = TIERS.map((t) => t.leadMs) as [number, number, number, number]

const TZ = 'Asia/Singapore'
const at = (date: string, time: string) => zonedTimeToInstant(date, time, TZ)
const TODAY = '2026-12-01' // a Tuesday
const NOW = at(TODAY, '10:00')
/** The engine's context when a crunch is ahead (crunchAhead). */
const SWEEP = { sweep: true }

function day(over: Partial<DayAfterFetch> = {}): DayAfterFetch {
  return { date: TODAY, timeZone: TZ, outcome: 'ok', consecutiveFailures: 0, lastSlotStart: '17:00', weekdayKnownClosed: false, ...over }
}

describe('nextDueAfterFetch: tiers', () => {
  it('today is due again after 15 minutes', () => {
    expect(nextDueAfterFetch(day(), NOW, TODAY)).toBe(NOW + 15 * MINUTE - T)
  })
  it('the next 7 days after 4 hours', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-04' }), NOW, TODAY)).toBe(NOW + 4 * HOUR - W)
    expect(nextDueAfterFetch(day({ date: '2026-12-08' }), NOW, TODAY)).toBe(NOW + 4 * HOUR - W)
  })
  it('days 8–30 daily, days 31–59 every three days (the business asked nothing of them)', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-20' }), NOW, TODAY)).toBe(NOW + 24 * HOUR - M)
    expect(nextDueAfterFetch(day({ date: '2027-01-29' }), NOW, TODAY)).toBe(NOW + 72 * HOUR - H)
  })
  it('day 31 is refreshed within the day before it enters the 30-day tier', () => {
    // 2027-01-02 is day 32 on 2026-12-01 and enters the daily tier at 2026-12-03 00:00: due in the day before.
    expect(nextDueAfterFetch(day({ date: '2027-01-02' }), NOW, TODAY)).toBe(at('2026-12-03', '00:00') - 24 * HOUR + M)
    // Day 31 enters it at the coming midnight, less than a day away: due a daily period from now.
    expect(nextDueAfterFetch(day({ date: '2027-01-01' }), NOW, TODAY)).toBe(NOW + 24 * HOUR - M)
  })
  it('a day outside the horizon is never due while outside', () => {
    expect(nextDueAfterFetch(day({ date: '2026-11-30' }), NOW, TODAY)).toBeGreaterThan(NOW)
  })
})

describe('nextDueAfterFetch: tier promotion', () => {
  it('tomorrow is fetched in the last minutes before midnight, so it is fresh when it becomes today', () => {
    const late = at(TODAY, '22:00')
    expect(nextDueAfterFetch(day({ date: '2026-12-02' }), late, TODAY)).toBe(at('2026-12-02', '00:00') - 15 * MINUTE + T)
    // Fetched inside that window: due again one "today" period later.
    const inWindow = at(TODAY, '23:50')
    expect(nextDueAfterFetch(day({ date: '2026-12-02' }), inWindow, TODAY)).toBe(inWindow + 15 * MINUTE - T)
  })
  it("tomorrow's days 1–7 (day 8 included) are fetched in the sweep before midnight, not at their usual spread", () => {
    const sweep = at('2026-12-02', '00:00') - WEEK_SWEEP_MS
    // Fetched at noon: day 8 waits for the sweep; day 3 would be due at 15:55, before it, and keeps that.
    expect(nextDueAfterFetch(day({ date: '2026-12-09' }), at(TODAY, '12:00'), TODAY, SWEEP)).toBe(sweep)
    expect(nextDueAfterFetch(day({ date: '2026-12-04' }), at(TODAY, '12:00'), TODAY, SWEEP)).toBe(at(TODAY, '12:00') + 4 * HOUR - W)
    // Due in the hour before the sweep opens (21:55 after a fetch at 18:00), a day waits for the sweep instead: a refresh then
    // would be fetched again within the hour. Due before that hour (20:55), it keeps its refresh.
    expect(sweep - SWEEP_DEFER_MS).toBe(at(TODAY, '21:00'))
    expect(nextDueAfterFetch(day({ date: '2026-12-04' }), at(TODAY, '18:00'), TODAY, SWEEP)).toBe(sweep)
    expect(nextDueAfterFetch(day({ date: '2026-12-04' }), at(TODAY, '17:05'), TODAY, SWEEP)).toBe(sweep)
    expect(nextDueAfterFetch(day({ date: '2026-12-04' }), at(TODAY, '17:00'), TODAY, SWEEP)).toBe(at(TODAY, '20:55'))
    // Without a crunch ahead nothing waits.
    expect(nextDueAfterFetch(day({ date: '2026-12-04' }), at(TODAY, '18:00'), TODAY)).toBe(at(TODAY, '21:55'))
    // Fetched at 20:00 a day would be due at 23:55 and stale at 00:00 in the crunch: it is fetched in the sweep instead.
    expect(nextDueAfterFetch(day({ date: '2026-12-04' }), at(TODAY, '20:00'), TODAY, SWEEP)).toBe(sweep)
    expect(nextDueAfterFetch(day({ date: '2026-12-09' }), at(TODAY, '20:00'), TODAY, SWEEP)).toBe(sweep)
    // Fetched in the sweep: due again after midnight in the order swept, the first swept at midnight, before their 4 h.
    const midnight = at('2026-12-02', '00:00')
    expect(nextDueAfterFetch(day({ date: '2026-12-09' }), sweep, TODAY, SWEEP)).toBe(midnight)
    expect(nextDueAfterFetch(day({ date: '2026-12-09' }), at(TODAY, '23:00'), TODAY, SWEEP)).toBe(midnight + HOUR)
    expect(nextDueAfterFetch(day({ date: '2026-12-04' }), at(TODAY, '23:40'), TODAY, SWEEP)).toBe(midnight + 100 * MINUTE)
    expect(midnight + 100 * MINUTE).toBeLessThan(at(TODAY, '23:40') + 4 * HOUR - W)
  })
  it('a day seen empty is not swept: it keeps its 24 h re-check', () => {
    const evening = at(TODAY, '20:00')
    expect(nextDueAfterFetch(day({ date: '2026-12-04', outcome: 'empty', lastSlotStart: null }), evening, TODAY, SWEEP)).toBe(
      evening + EMPTY_WEEK_RECHECK_MS - W,
    )
  })
  it('the sweep leaves the last 15 minutes to day 1 and starts a week period before midnight at most', () => {
    expect(WEEK_SWEEP_MS).toBeGreaterThan(15 * MINUTE)
    expect(WEEK_SWEEP_MS).toBeLessThanOrEqual(MAX_SWEEP_MS)
    expect(MAX_SWEEP_MS).toBe(4 * HOUR - W)
  })
  it('the sweep is sized to end when day 1’s window opens: as late as the open days 2–8 allow', () => {
    // Dense catalogue at 450 products: 401 open tomorrow, 2,700 open days 2–8, 29.5 usable a minute.
    const dense = { tomorrowOpen: 401, weekOpen: 2_700, usablePerMinute: 29.5 }
    const span = sweepSpanMs(dense)
    const dayOne = 15 * MINUTE - T
    // What the key gives the sweep before day 1's window (95 %) and what that window leaves covers the days, by at most a minute's worth more.
    const fetched = ((span - dayOne) / MINUTE) * 29.5 * 0.95 + ((29.5 - 401 / 15) * dayOne) / MINUTE
    expect(fetched).toBeGreaterThanOrEqual(2_700)
    expect(fetched).toBeLessThan(2_700 + 29.5)
    expect(span % MINUTE).toBe(0)
    // Here ~1 h 50 min, later than the fixed 2 h.
    expect(span).toBeLessThan(WEEK_SWEEP_MS)
    // More open days, a longer sweep; never longer than a week period.
    expect(sweepSpanMs({ ...dense, weekOpen: 3_000 })).toBeGreaterThan(span)
    expect(sweepSpanMs({ ...dense, weekOpen: 20_000 })).toBe(MAX_SWEEP_MS)
    // Days that fit in what day 1's window leaves need no span of their own.
    expect(sweepSpanMs({ ...dense, weekOpen: 10 })).toBe(15 * MINUTE)
  })
  it('the engine plans with a sweep, sized, only when a crunch is ahead; the sweep opens that long before midnight', () => {
    const dense = { tomorrowOpen: 401, weekOpen: 2_700, usablePerMinute: 29.5 }
    const ctx = planContext(dense)
    expect(ctx).toEqual({ sweep: true, sweepMs: sweepSpanMs(dense) })
    expect(planContext({ tomorrowOpen: 193, weekOpen: 1_400, usablePerMinute: 29.5 })).toEqual({ sweep: false })
    const opens = at('2026-12-02', '00:00') - ctx.sweepMs!
    expect(nextDueAfterFetch(day({ date: '2026-12-09' }), at(TODAY, '12:00'), TODAY, ctx)).toBe(opens)
    expect(nextDueAfterFetch(day({ date: '2026-12-04' }), at(TODAY, '20:00'), TODAY, ctx)).toBe(opens)
  })
  it('without a crunch ahead there is no sweep: day 8 is due in the 4 h before midnight, days 2–7 keep their spread', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-09' }), at(TODAY, '12:00'), TODAY)).toBe(at('2026-12-02', '00:00') - 4 * HOUR + W)
    expect(nextDueAfterFetch(day({ date: '2026-12-04' }), at(TODAY, '20:00'), TODAY)).toBe(at(TODAY, '20:00') + 4 * HOUR - W)
  })
  it('a crunch is ahead when what tomorrow leaves of the key cannot refresh days 2–8 within 4 h', () => {
    // Dense catalogue at 450 products: 401 open tomorrow ask 26.7 of 29.5 a minute; 672 requests in 4 h for 2,800 days.
    expect(crunchAhead({ tomorrowOpen: 401, weekOpen: 2_800, usablePerMinute: 29.5 })).toBe(true)
    // Sample catalogue: 193 ask 12.9; ~4,000 requests in 4 h for 1,400 days. Its busiest day (276 open) neither.
    expect(crunchAhead({ tomorrowOpen: 193, weekOpen: 1_400, usablePerMinute: 29.5 })).toBe(false)
    expect(crunchAhead({ tomorrowOpen: 276, weekOpen: 1_500, usablePerMinute: 29.5 })).toBe(false)
  })
  it('a known-closed weekday is not promoted', () => {
    const late = at(TODAY, '22:00')
    expect(nextDueAfterFetch(day({ date: '2026-12-02', outcome: 'empty', weekdayKnownClosed: true, lastSlotStart: null }), late, TODAY)).toBe(
      late + CLOSED_RECHECK_MS - W,
    )
  })
})

describe('nextDueAfterFetch: spending the budget where it matters', () => {
  it('a known-closed weekday is re-checked daily, even today', () => {
    expect(nextDueAfterFetch(day({ outcome: 'empty', weekdayKnownClosed: true, lastSlotStart: null }), NOW, TODAY)).toBeGreaterThanOrEqual(
      NOW + CLOSED_RECHECK_MS - T,
    )
    expect(nextDueAfterFetch(day({ date: '2026-12-03', outcome: 'empty', weekdayKnownClosed: true, lastSlotStart: null }), NOW, TODAY)).toBe(
      NOW + CLOSED_RECHECK_MS - W,
    )
  })
  it('a known-closed day beyond the 7-day tier is re-checked every 3 days', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-20', outcome: 'empty', weekdayKnownClosed: true, lastSlotStart: null }), NOW, TODAY)).toBe(
      NOW + FAR_CLOSED_RECHECK_MS - M,
    )
  })
  it('an unexpectedly empty day of days 1–7 is re-checked at the 24 h of days 8–30; beyond, it keeps its tier', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-03', outcome: 'empty', lastSlotStart: null }), NOW, TODAY)).toBe(NOW + EMPTY_WEEK_RECHECK_MS - W)
    expect(EMPTY_WEEK_RECHECK_MS).toBe(24 * HOUR)
    expect(nextDueAfterFetch(day({ date: '2026-12-20', outcome: 'empty', lastSlotStart: null }), NOW, TODAY)).toBe(NOW + 24 * HOUR - M)
    expect(nextDueAfterFetch(day({ date: '2027-01-15', outcome: 'empty', lastSlotStart: null }), NOW, TODAY)).toBe(NOW + 72 * HOUR - H)
  })
  it('today stops being refreshed once its last slot has started', () => {
    const endOfToday = at('2026-12-02', '00:00')
    expect(nextDueAfterFetch(day({ lastSlotStart: '10:05' }), NOW, TODAY)).toBe(endOfToday)
    expect(nextDueAfterFetch(day({ lastSlotStart: '09:00' }), NOW, TODAY)).toBe(endOfToday)
    expect(nextDueAfterFetch(day({ lastSlotStart: '10:30' }), NOW, TODAY)).toBe(NOW + 15 * MINUTE - T)
  })
  it('the cut-off applies only to today', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-03', lastSlotStart: '04:00' }), NOW, TODAY)).toBe(NOW + 4 * HOUR - W)
  })
  it('today with nothing on sale is re-checked at the 4 h standard of days 1–7', () => {
    expect(nextDueAfterFetch(day({ outcome: 'empty', lastSlotStart: null }), NOW, TODAY)).toBe(NOW + EMPTY_TODAY_RECHECK_MS - T)
    expect(EMPTY_TODAY_RECHECK_MS).toBe(4 * HOUR)
  })
  it('a day keeps its tier whatever it sells: the interval does not follow bookings', () => {
    expect(nextDueAfterFetch(day({ date: '2026-12-03' }), NOW, TODAY)).toBe(NOW + 4 * HOUR - W)
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
  const cand = (over: Partial<Candidate>): Candidate => ({
    productId: 1,
    date: TODAY,
    timeZone: TZ,
    nextDueAt: NOW,
    forcedAt: null,
    lastSlotStart: '17:00',
    lastFetchedAt: null,
    ...over,
  })

  it('puts today first, then "run now" (oldest request first), then the rest', () => {
    const r = rankDue(
      [
        cand({ productId: 1, date: '2026-12-03', nextDueAt: NOW - 10 * HOUR }),
        cand({ productId: 2, forcedAt: NOW - 5, date: '2027-01-20', nextDueAt: NOW + HOUR }),
        cand({ productId: 3, forcedAt: NOW - 10, date: '2027-01-20' }),
        cand({ productId: 4, date: TODAY, nextDueAt: NOW }),
      ],
      NOW,
      todayOf,
    )
    expect(r.map((c) => c.productId)).toEqual([4, 3, 2, 1])
  })
  it('a run never delays a due day of today, however old the run', () => {
    const r = rankDue(
      [cand({ productId: 1, forcedAt: NOW - 24 * HOUR, date: '2026-12-03' }), cand({ productId: 2, date: TODAY, nextDueAt: NOW })],
      NOW,
      todayOf,
    )
    expect(r.map((c) => c.productId)).toEqual([2, 1])
  })
  it('skips pairs not yet due', () => {
    expect(rankDue([cand({ nextDueAt: NOW + 1 })], NOW, todayOf)).toEqual([])
  })
  it('with a sweep ahead, day 8 falling due before it weighs like days 31–59; in the sweep, like days 1–7', () => {
    const afternoon = at(TODAY, '15:00')
    const fetched = afternoon - 24 * HOUR
    const ranked = (now: number, ctx = SWEEP) =>
      rankDue(
        [
          cand({ productId: 1, date: '2026-12-09', nextDueAt: afternoon, lastFetchedAt: fetched }), // day 8, swept tonight
          cand({ productId: 2, date: '2026-12-20', nextDueAt: afternoon, lastFetchedAt: fetched }), // a day 8–30
          cand({ productId: 3, date: '2027-01-20', nextDueAt: afternoon - 2 * HOUR, lastFetchedAt: fetched }), // a day 31–59, due longer
          cand({ productId: 4, date: '2026-12-08', nextDueAt: afternoon, lastFetchedAt: fetched }), // day 7: unchanged
        ],
        now,
        todayOf,
        ctx,
      ).map((r) => [r.productId, r.score])
    // Day 8 goes after every due day 8–30 and shares days 31–59's weight (1), ranking by lateness among them.
    const s = ranked(afternoon)
    expect(s.map(([id]) => id)).toEqual([4, 2, 3, 1])
    expect(s.find(([id]) => id === 1)![1]).toBe(1)
    // No sweep ahead: day 8 is a day 8–30 like any other.
    expect(ranked(afternoon, { sweep: false }).map(([id]) => id)).toEqual([4, 1, 2, 3])
    // Once the sweep opens it ranks as days 1–7 again (day 7, stale since yesterday evening, just before it).
    const inSweep = at('2026-12-02', '00:00') - WEEK_SWEEP_MS + MINUTE
    expect(
      ranked(inSweep)
        .slice(0, 2)
        .map(([id]) => id),
    ).toEqual([4, 1])
    expect(ranked(inSweep).find(([id]) => id === 1)![1]).toBeGreaterThan(100)
  })
  it('in the sweep, where all are due at its opening, the stale longest go first, day 8 by its 24 h', () => {
    const opens = at('2026-12-02', '00:00') - WEEK_SWEEP_MS
    const ranked = rankDue(
      [
        cand({ productId: 1, date: '2026-12-04', nextDueAt: opens, lastFetchedAt: at(TODAY, '21:30') }),
        cand({ productId: 4, date: '2026-12-09', nextDueAt: opens, lastFetchedAt: at(TODAY, '02:00') }), // day 8: stale at 02:00 tomorrow
        cand({ productId: 5, date: '2026-12-09', nextDueAt: opens, lastFetchedAt: at('2026-11-30', '21:00') }), // day 8: stale since 21:00
        cand({ productId: 2, date: '2026-12-05', nextDueAt: opens, lastFetchedAt: at(TODAY, '17:10') }), // stale since 21:10
        cand({ productId: 3, date: '2026-12-04', nextDueAt: opens, lastFetchedAt: at(TODAY, '19:00') }),
      ],
      opens + MINUTE,
      todayOf,
      SWEEP,
    )
    expect(ranked.map((r) => r.productId)).toEqual([5, 2, 3, 1, 4])
    expect(new Set(ranked.map((r) => r.score)).size).toBe(1)
  })
  it('orders by lateness relative to the tier target, near days weighted up', () => {
    const fetched = NOW - 30 * HOUR
    const r = rankDue(
      [
        cand({ productId: 1, date: '2026-12-20', nextDueAt: NOW - 24 * HOUR, lastFetchedAt: fetched }), // month: 2 × 5 = 10
        cand({ productId: 2, date: '2027-01-20', nextDueAt: NOW - 72 * HOUR, lastFetchedAt: fetched }), // horizon: 2 × 1 = 2
        cand({ productId: 3, date: '2026-12-03', nextDueAt: NOW, lastFetchedAt: fetched }), // week: 1 × 100
      ],
      NOW,
      todayOf,
    )
    expect(r.map((c) => c.productId)).toEqual([3, 1, 2])
  })
  it('lets a long-late far day overtake a just-due week day (aging), so nothing starves', () => {
    const fetched = NOW - 40 * 24 * HOUR
    const r = rankDue(
      [
        cand({ productId: 1, date: '2026-12-03', nextDueAt: NOW, lastFetchedAt: fetched }),
        cand({ productId: 2, date: '2026-12-20', nextDueAt: NOW - 25 * 24 * HOUR, lastFetchedAt: fetched }),
      ],
      NOW,
      todayOf,
    )
    expect(r[0]!.productId).toBe(2)
  })
  it('a never-fetched far day weighs like the 30-day tier: ahead of a far day late by 3 days, behind a just-due week day', () => {
    const r = rankDue(
      [
        cand({ productId: 1, date: '2027-01-15', nextDueAt: NOW - 72 * HOUR, lastFetchedAt: NOW - 144 * HOUR }),
        cand({ productId: 2, date: '2027-01-20', nextDueAt: NOW - MINUTE }),
        cand({ productId: 3, date: '2026-12-03', nextDueAt: NOW, lastFetchedAt: NOW - 4 * HOUR }),
      ],
      NOW,
      todayOf,
    )
    expect(r.map((c) => c.productId)).toEqual([3, 2, 1])
  })
  it('a day beyond day 7 last seen empty weighs like days 31–59: behind an open day 8–30 due later, ahead of nothing nearer', () => {
    const fetched = NOW - 30 * HOUR
    const r = rankDue(
      [
        cand({ productId: 1, date: '2026-12-20', nextDueAt: NOW - 24 * HOUR, lastFetchedAt: fetched, lastSlotStart: null }), // empty, month: 2 × 1
        cand({ productId: 2, date: '2026-12-21', nextDueAt: NOW - HOUR, lastFetchedAt: fetched }), // open, month: ~1.04 × 5
        cand({ productId: 3, date: '2026-12-03', nextDueAt: NOW - HOUR, lastFetchedAt: fetched, lastSlotStart: null }), // empty, week: 1.25 × 100
      ],
      NOW,
      todayOf,
    )
    expect(r.map((c) => c.productId)).toEqual([3, 2, 1])
    expect(r.find((c) => c.productId === 1)!.score).toBeCloseTo(2, 6)
  })
  it("in its window before midnight a day ranks as the tier it enters: day 1 with today's, day 8 with days 1–7", () => {
    const late = at(TODAY, '23:50')
    const fetched = late - 10 * HOUR
    const r = rankDue(
      [
        cand({ productId: 1, date: '2026-12-20', nextDueAt: late - 48 * HOUR, lastFetchedAt: fetched }), // month, 2 days late: 15
        cand({ productId: 2, date: '2026-12-09', nextDueAt: late - HOUR, lastFetchedAt: fetched }), // day 8 in the sweep: week, > 100
        cand({ productId: 3, date: '2026-12-04', nextDueAt: late - 2 * HOUR, lastFetchedAt: fetched }), // week, later than day 8
        cand({ productId: 4, date: '2026-12-02', nextDueAt: late - MINUTE, lastFetchedAt: fetched }), // day 1: today's class
      ],
      late,
      todayOf,
      SWEEP,
    )
    expect(r.map((c) => [c.productId, c.tier.name])).toEqual([
      [4, 'today'],
      [3, 'week'],
      [2, 'week'],
      [1, 'month'],
    ])
    // Before its window, day 8 is a day of days 8–30.
    expect(rankDue([cand({ date: '2026-12-09', lastFetchedAt: fetched })], NOW, todayOf, SWEEP)[0]!.tier.name).toBe('month')
  })
  it('drops today pairs past their last slot and days outside the horizon', () => {
    const r = rankDue(
      [
        cand({ productId: 1, lastSlotStart: '09:30', lastFetchedAt: NOW - HOUR }),
        cand({ productId: 2, date: '2026-11-30' }),
        cand({ productId: 3, date: '2027-01-31' }),
      ],
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
