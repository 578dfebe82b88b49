import { describe, expect, it } from 'vitest'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { FAILURE_BACKOFF_MS, isWeekdayClosed, nextDue, servedTier, staleAt, todayLeadMs, type DayAfterFetch } from '../../server/sync/policy/deadline.ts'
import { HOUR, MINUTE } from '../../server/sync/tiers.ts'

const TZ = 'Asia/Singapore'
const at = (date: string, time: string, tz = TZ) => zonedTimeToInstant(date, time, tz)
const TODAY = '2026-12-01'
const NOW = at(TODAY, '10:00')
const LEAD = 17_000

function day(over: Partial<DayAfterFetch> = {}): DayAfterFetch {
  return { date: TODAY, timeZone: TZ, outcome: 'ok', consecutiveFailures: 0, lastSlotStart: '17:00', weekdayKnownClosed: false, todayLeadMs: LEAD, ...over }
}

describe("todayLeadMs: today's lead from the engine's settings", () => {
  it('the ranking cadence, one place in the window and the longest answer accepted', () => {
    // 30 a minute with the 1 s margin: a place every 2.03 s.
    expect(todayLeadMs({ rankEveryMs: 5_000, perMinute: (30 * 60) / 61, answerTimeoutMs: 10_000 })).toBeCloseTo(5_000 + 2_033 + 10_000, -1)
  })
  it('a slower key waits longer for its place: the lead grows with it', () => {
    const lead = (perMinute: number) => todayLeadMs({ rankEveryMs: 5_000, perMinute, answerTimeoutMs: 10_000 })
    expect(lead(2) - lead(30)).toBeCloseTo(30_000 - 2_000, -1)
  })
})

describe('staleAt: when an answer is older than the tier the day is in then', () => {
  it('within one tier: the fetch plus its target', () => {
    expect(staleAt(NOW, TODAY, TZ)).toBe(NOW + 15 * MINUTE)
    expect(staleAt(NOW, '2026-12-04', TZ)).toBe(NOW + 4 * HOUR)
    expect(staleAt(NOW, '2026-12-20', TZ)).toBe(NOW + 24 * HOUR)
    expect(staleAt(NOW, '2027-01-20', TZ)).toBe(NOW + 72 * HOUR)
  })
  it('crossing into a stricter tier at a midnight: stale there when already older than the stricter target', () => {
    // Day 8 fetched at 10:00 becomes day 7 at midnight, 14 h later: past 4 h, stale at midnight.
    expect(staleAt(NOW, '2026-12-09', TZ)).toBe(at('2026-12-02', '00:00'))
    // Fetched at 22:00 it is within 4 h at midnight: stale at 02:00 as a day 7.
    expect(staleAt(at(TODAY, '22:00'), '2026-12-09', TZ)).toBe(at('2026-12-02', '02:00'))
    // Tomorrow becomes today at midnight: fetched before 23:45, stale there.
    expect(staleAt(at(TODAY, '23:00'), '2026-12-02', TZ)).toBe(at('2026-12-02', '00:00'))
    expect(staleAt(at(TODAY, '23:50'), '2026-12-02', TZ)).toBe(at('2026-12-02', '00:05'))
  })
  it("each product's own midnight: the same instant is a different day elsewhere", () => {
    const ny = 'America/New_York'
    const t = at('2026-12-01', '10:00', ny)
    // Day 8 in New York becomes day 7 at New York's midnight.
    expect(staleAt(t, '2026-12-09', ny)).toBe(at('2026-12-02', '00:00', ny))
  })
  it('a day already past is stale at once', () => {
    expect(staleAt(NOW, '2026-11-30', TZ)).toBe(NOW)
  })
})

describe('nextDue after a fetch', () => {
  it('planned tiers: when the answer goes stale, reason "tier"', () => {
    expect(nextDue(day({ date: '2026-12-04' }), NOW)).toEqual({ at: NOW + 4 * HOUR, reason: 'tier' })
    expect(nextDue(day({ date: '2026-12-09' }), NOW)).toEqual({ at: at('2026-12-02', '00:00'), reason: 'tier' })
  })
  it('today: timed, a lead before it goes stale (sent when due, stamped when answered)', () => {
    expect(nextDue(day(), NOW)).toEqual({ at: NOW + 15 * MINUTE - LEAD, reason: 'today' })
  })
  it('tomorrow whose answer lasts until midnight: served as today, in the 15 minutes before it', () => {
    expect(nextDue(day({ date: '2026-12-02' }), at(TODAY, '20:00'))).toEqual({ at: at('2026-12-02', '00:00') - 15 * MINUTE + LEAD, reason: 'today' })
    // Fetched at 18:00 its 4 h run out at 22:00, before midnight: planned as days 1–7.
    expect(nextDue(day({ date: '2026-12-02' }), at(TODAY, '18:00'))).toEqual({ at: at(TODAY, '22:00'), reason: 'tier' })
  })
  it('today after its last slot has started: not again today (the cut-off)', () => {
    expect(nextDue(day({ lastSlotStart: '10:05' }), NOW)).toEqual({ at: at('2026-12-02', '00:00'), reason: 'cutoff' })
  })
  it('a day seen empty is re-checked at the next slower tier; a known-closed weekday two slower', () => {
    const empty = (date: string, weekdayKnownClosed = false) => nextDue(day({ date, outcome: 'empty', lastSlotStart: null, weekdayKnownClosed }), NOW)
    expect(empty('2026-12-04')).toEqual({ at: NOW + 24 * HOUR, reason: 'empty' })
    expect(empty('2026-12-04', true)).toEqual({ at: NOW + 72 * HOUR, reason: 'closed' })
    expect(empty('2026-12-20')).toEqual({ at: NOW + 72 * HOUR, reason: 'empty' })
    expect(empty('2027-01-20')).toEqual({ at: NOW + 72 * HOUR, reason: 'empty' })
    // Today empty: re-checked at 4 h, unless that is past its cut-off (an empty day has none: it is re-checked).
    expect(nextDue(day({ outcome: 'empty', lastSlotStart: null }), NOW)).toEqual({ at: NOW + 4 * HOUR, reason: 'empty' })
  })
  it("a re-check is served in the tier of its interval: one slower than the day's (two for a known-closed weekday); a retry in the day's own", () => {
    const served = (date: string, reason: 'empty' | 'closed' | 'backoff' | 'tier') =>
      servedTier({ date, timeZone: TZ, reason, nextDueAt: NOW - MINUTE }, NOW)?.name
    expect(served(TODAY, 'empty')).toBe('week')
    expect(served('2026-12-04', 'empty')).toBe('month')
    expect(served('2026-12-04', 'closed')).toBe('horizon')
    expect(served('2026-12-20', 'empty')).toBe('horizon')
    expect(served('2027-01-20', 'closed')).toBe('horizon')
    expect(served('2026-12-04', 'backoff')).toBe('week')
    expect(served('2026-12-04', 'tier')).toBe('week')
    expect(served('2027-03-20', 'empty')).toBeUndefined()
  })
  it('failures back off, doubling from a minute, never beyond the tier target', () => {
    const failed = (n: number, date = '2026-12-04') => nextDue(day({ date, outcome: 'error', consecutiveFailures: n }), NOW)
    expect(failed(1)).toEqual({ at: NOW + FAILURE_BACKOFF_MS, reason: 'backoff' })
    expect(failed(3).at).toBe(NOW + 4 * FAILURE_BACKOFF_MS)
    expect(failed(40).at).toBe(NOW + 4 * HOUR)
    expect(failed(40, TODAY).at).toBe(NOW + 15 * MINUTE)
  })
  it("rate limited: at the partner's reset", () => {
    expect(nextDue(day({ outcome: 'rate_limited', retryAt: NOW + 42_000 }), NOW)).toEqual({ at: NOW + 42_000, reason: 'rate_limited' })
    expect(nextDue(day({ outcome: 'rate_limited' }), NOW).at).toBe(NOW + MINUTE)
  })
  it('a weekday is known closed after two empty and no open days of it', () => {
    expect(isWeekdayClosed({ open: 0, empty: 2 })).toBe(true)
    expect(isWeekdayClosed({ open: 1, empty: 5 })).toBe(false)
    expect(isWeekdayClosed({ open: 0, empty: 1 })).toBe(false)
    expect(isWeekdayClosed(undefined)).toBe(false)
  })
})
