import { describe, expect, it } from 'vitest'
import { addDays, localDate, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { byBoundary, computePlan, SLICES, type DayCounts, type Plan } from '../../server/sync/policy/plan.ts'
import { rankCandidates, type Candidate } from '../../server/sync/policy/rank.ts'
import { HOUR, MINUTE } from '../../server/sync/tiers.ts'

const TZ = 'Asia/Singapore'
const at = (date: string, time: string) => zonedTimeToInstant(date, time, TZ)
const TODAY = '2026-12-01'
const NOW = at(TODAY, '14:00')
const todayOf = (tz: string) => localDate(NOW, tz)

function pair(productId: number, date: string, nextDueAt: number, over: Partial<Candidate> = {}): Candidate {
  return { productId, date, timeZone: TZ, nextDueAt, reason: 'tier', forcedAt: null, lastSlotStart: '17:00', lastFetchedAt: nextDueAt - 4 * HOUR, ...over }
}
const key = (c: { productId: number; date: string }) => `${c.productId}/${c.date}`

describe('rankCandidates', () => {
  it("today's due days first, then run-now, then the rest at their turns; today not yet due only early, past half its 15 min", () => {
    const ranked = rankCandidates(
      [
        pair(1, '2026-12-04', NOW - HOUR),
        pair(2, TODAY, NOW - MINUTE, { lastFetchedAt: NOW - 16 * MINUTE }),
        pair(3, '2026-12-20', NOW + HOUR, { forcedAt: NOW - 5 * MINUTE }),
        pair(4, TODAY, NOW + MINUTE, { lastFetchedAt: NOW - 14 * MINUTE }),
        pair(5, TODAY, NOW + 13 * MINUTE, { lastFetchedAt: NOW - 2 * MINUTE }),
      ],
      undefined,
      NOW,
      todayOf,
    )
    expect(ranked.map(key)).toEqual([`2/${TODAY}`, '3/2026-12-20', '1/2026-12-04', `4/${TODAY}`])
    expect(ranked.at(-1)!.early).toBe(true)
  })

  it('timed pairs (a backoff, a re-check) wait for their time; planned pairs may go early once half their interval has passed', () => {
    const ranked = rankCandidates(
      [
        pair(1, '2026-12-04', NOW + MINUTE, { reason: 'backoff' }),
        pair(2, '2026-12-04', NOW - MINUTE, { reason: 'empty', lastSlotStart: null }),
        // Fetched 3 h ago, stale in 1 h: past half its interval.
        pair(3, '2026-12-05', NOW + HOUR, { lastFetchedAt: NOW - 3 * HOUR }),
        // Fetched 10 min ago: too soon.
        pair(4, '2026-12-05', NOW + 230 * MINUTE, { lastFetchedAt: NOW - 10 * MINUTE }),
      ],
      undefined,
      NOW,
      todayOf,
    )
    expect(ranked.map(key)).toEqual(['2/2026-12-04', '3/2026-12-05'])
    expect(ranked.find((r) => r.productId === 3)!.early).toBe(true)
    expect(ranked.find((r) => r.productId === 2)!.early).toBeUndefined()
  })

  it("a due re-check takes its served tier's turns: an empty day 3 waits behind the days 8–30 the plan sends first", () => {
    // Stale days 8–30 and one empty day 3 due for its re-check; the plan has room for only some of them now.
    const days: DayCounts[] = Array.from({ length: 31 }, (_, off) => ({
      date: addDays(TODAY, off),
      open: off >= 8 ? 10 : 0,
      staleBy: byBoundary(NOW, off >= 8 ? [{ at: NOW, count: 10 }] : []),
    }))
    const plan = computePlan({ now: NOW, perMinute: 1, zones: [{ timeZone: TZ, days, rechecks: { month: byBoundary(NOW, [{ at: NOW, count: 1 }]) } }] })
    const month = Array.from({ length: 5 }, (_, i) => pair(200 + i, '2026-12-15', NOW - 2 * HOUR + i * MINUTE, { lastFetchedAt: NOW - 26 * HOUR }))
    const recheck = pair(1, '2026-12-04', NOW - MINUTE, { reason: 'empty', lastSlotStart: null, lastFetchedAt: NOW - 24 * HOUR })
    const ranked = rankCandidates([recheck, ...month], plan, NOW, todayOf, { week: 0, month: 0, horizon: 0 })
    const r = ranked.find((x) => x.productId === 1)!
    expect(r.tier.name).toBe('month')
    // Staler days 8–30 take the earlier turns; the re-check's turn is the plan's, later than now.
    expect(ranked.map((x) => x.productId).indexOf(1)).toBe(5)
    expect(r.turnAt).toBeGreaterThan(ranked[0]!.turnAt)
    expect(r.early).toBeUndefined()
  })

  it('a pair is served in the tier it is in when it goes stale: day 8 stale at midnight ranks as days 1–7', () => {
    const [r] = rankCandidates([pair(1, '2026-12-09', at('2026-12-02', '00:00'), { lastFetchedAt: NOW - 14 * HOUR })], undefined, NOW, todayOf)
    expect(r!.tier.name).toBe('week')
    expect(r!.offset).toBe(8)
  })

  it('with a plan, turns interleave the tiers at their planned rates and order each tier by staleness', () => {
    // A catalogue with room: 60 open days per date, answers spread over their targets.
    const days: DayCounts[] = Array.from({ length: 60 }, (_, off) => ({
      date: addDays(TODAY, off),
      open: 60,
      staleBy: byBoundary(
        NOW,
        Array.from({ length: 60 }, (_, i) => ({ at: NOW + (i + 0.5) * MINUTE * (off <= 7 ? 4 : off <= 30 ? 24 : 72), count: 1 })),
      ),
    }))
    const plan = computePlan({ now: NOW, perMinute: 29.5, zones: [{ timeZone: TZ, days }] })
    const week = Array.from({ length: 60 }, (_, i) => pair(100 + i, '2026-12-03', NOW + i * MINUTE, { lastFetchedAt: NOW - 4 * HOUR }))
    const month = Array.from({ length: 20 }, (_, i) => pair(200 + i, '2026-12-15', NOW + i * MINUTE, { lastFetchedAt: NOW - 24 * HOUR }))
    const ranked = rankCandidates([...month, ...week].reverse(), plan, NOW, todayOf)
    const weeks = ranked.filter((r) => r.tier.name === 'week').map((r) => r.productId)
    expect(weeks).toEqual([...weeks].sort((a, b) => a - b))
    for (let i = 1; i < ranked.length; i++) expect(ranked[i]!.turnAt).toBeGreaterThanOrEqual(ranked[i - 1]!.turnAt)
    // Neither tier waits for the other to drain: a day 8–30 has its turn before the last day 1–7.
    const tiers = ranked.map((r) => r.tier.name)
    expect(tiers.indexOf('month')).toBeGreaterThan(-1)
    expect(tiers.indexOf('month')).toBeLessThan(tiers.lastIndexOf('week'))
  })

  it("today's day past its last slot is not ranked unless run-now asked for it", () => {
    const past = pair(1, TODAY, NOW - MINUTE, { lastSlotStart: '13:00', lastFetchedAt: NOW - 20 * MINUTE })
    expect(rankCandidates([past], undefined, NOW, todayOf)).toEqual([])
    expect(rankCandidates([{ ...past, forcedAt: NOW - 1 }], undefined, NOW, todayOf)).toHaveLength(1)
  })

  it('at its turn the plan sends a day however recently it was fetched (a sweep); before its turn, only past half its interval', () => {
    // A plan that sends days 1–7 now (10 in the first slice) and nothing else.
    const zero = () => new Float64Array(SLICES)
    const week = zero()
    week[0] = 10
    const plan: Plan = {
      start: NOW,
      today: zero(),
      tiers: { week, month: zero(), horizon: zero() },
      uncovered: { week: zero(), month: zero(), horizon: zero() },
      capacity: 30,
    }
    // Fetched an hour ago, stale in 3 h: its turn is now.
    const swept = pair(1, '2026-12-04', NOW + 3 * HOUR, { lastFetchedAt: NOW - HOUR })
    const [r] = rankCandidates([swept], plan, NOW, todayOf)
    expect(r).toMatchObject({ productId: 1, early: true })
    expect(r!.turnAt).toBeLessThan(NOW + 5 * MINUTE)
    // With no turn in the plan it waits for half its interval (or its staleness).
    expect(rankCandidates([swept], { ...plan, tiers: { ...plan.tiers, week: zero() } }, NOW, todayOf)).toEqual([])
  })

  it('turns count what was sent since the plan: a day just fetched does not inherit the turn the plan made for it while stale', () => {
    const zero = () => new Float64Array(SLICES)
    const week = zero()
    week[0] = 2
    // Made 5 min ago, with two requests of days 1–7 in its first 5 minutes.
    const plan: Plan = {
      start: NOW - 5 * MINUTE,
      today: zero(),
      tiers: { week, month: zero(), horizon: zero() },
      uncovered: { week: zero(), month: zero(), horizon: zero() },
      capacity: 30,
    }
    const stale = pair(1, '2026-12-04', NOW - MINUTE, { lastFetchedAt: NOW - 4 * HOUR - MINUTE })
    const justFetched = pair(2, '2026-12-04', NOW + 4 * HOUR - MINUTE, { lastFetchedAt: NOW - MINUTE })
    // Nothing sent since: both of the plan's two requests are due now (catching up).
    expect(rankCandidates([stale, justFetched], plan, NOW, todayOf, { week: 0, month: 0, horizon: 0 }).map((r) => r.productId)).toEqual([1, 2])
    // Both sent already (the second was this very day, before its fetch): no turn left for it.
    const after = rankCandidates([stale, justFetched], plan, NOW, todayOf, { week: 2, month: 0, horizon: 0 })
    expect(after.map((r) => [r.productId, r.turnAt])).toEqual([[1, Number.POSITIVE_INFINITY]])
  })
})
