import { describe, expect, it } from 'vitest'
import { localDate, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { DEMAND_HALF_LIFE_MS, EARLY_AT_SHARE, byTurnOrder, decayed, earlyAfterMs, merged, readsPerMs, spareByDemand } from '../../server/sync/policy/demand.ts'
import { byBoundary, computePlan, SLICES, type DayCounts, type Plan } from '../../server/sync/policy/plan.ts'
import { rankCandidates, type Candidate } from '../../server/sync/policy/rank.ts'
import { HOUR, MINUTE } from '../../server/sync/tiers.ts'
import { addDays } from '../../server/calendar/days.ts'

const TZ = 'Asia/Singapore'
const TODAY = '2026-12-01'
const NOW = zonedTimeToInstant(TODAY, '14:00', TZ)
const H = DEMAND_HALF_LIFE_MS
const todayOf = (tz: string) => localDate(NOW, tz)

function pair(productId: number, date: string, nextDueAt: number, over: Partial<Candidate> = {}): Candidate {
  return { productId, date, timeZone: TZ, nextDueAt, reason: 'tier', forcedAt: null, lastSlotStart: '17:00', lastFetchedAt: nextDueAt - 4 * HOUR, ...over }
}
const zero = () => new Float64Array(SLICES)
/** A plan with `perSlice[k]` requests of days 1–7 in slice k and nothing else. */
function weekPlan(perSlice: number[]): Plan {
  const week = zero()
  perSlice.forEach((n, k) => {
    week[k] = n
  })
  return {
    start: NOW,
    today: zero(),
    tiers: { week, month: zero(), horizon: zero() },
    uncovered: { week: zero(), month: zero(), horizon: zero() },
    capacity: 30,
  }
}
/** Reads per hour → the steady decayed count they settle at. */
const perHour = (n: number) => ((n / HOUR) * H) / Math.LN2

describe('the decay law', () => {
  it('halves a count every half-life, and a count stamped after now is taken as of now', () => {
    expect(decayed(8, NOW, NOW)).toBe(8)
    expect(decayed(8, NOW, NOW + H)).toBeCloseTo(4, 12)
    expect(decayed(8, NOW, NOW + 2 * H)).toBeCloseTo(2, 12)
    expect(decayed(8, NOW + MINUTE, NOW)).toBe(8)
  })

  it('merging flushes adds counts: two instances’ flushes, in either order, store the decayed sum', () => {
    const a = merged(merged(undefined, 3, NOW), 5, NOW + H)
    expect(a).toEqual({ reads: 3 / 2 + 5, at: NOW + H })
    // The other order (an instance whose clock is behind flushes last): the instant never moves back.
    const b = merged(merged(undefined, 5, NOW + H), 3, NOW)
    expect(b.at).toBe(NOW + H)
    expect(b.reads).toBe(8)
    // Several flushes at one instant are a plain sum.
    expect(merged(merged(merged(undefined, 1, NOW), 2, NOW), 4, NOW).reads).toBe(7)
  })

  it('a steady read rate settles at rate × half-life ÷ ln 2, and readsPerMs gives the rate back', () => {
    const rate = 12 / HOUR
    let stored: { reads: number; at: number } | undefined
    // Flushed each minute for ten half-lives.
    for (let t = NOW; t <= NOW + 10 * H; t += MINUTE) stored = merged(stored, rate * MINUTE, t)
    expect(readsPerMs(stored!.reads) / rate).toBeCloseTo(1, 2)
  })
})

describe('short budget: the days people read stay fresh first', () => {
  it('within a tier, stale days take the turns most read first, then by staleness; days not stale keep the order of staleness', () => {
    const days = [
      pair(1, '2026-12-03', NOW - 3 * HOUR), // stalest, nobody reads it
      pair(2, '2026-12-03', NOW - HOUR, { demand: perHour(1) }),
      pair(3, '2026-12-04', NOW - MINUTE, { demand: perHour(30) }), // least stale, most read
      pair(4, '2026-12-04', NOW - 2 * HOUR),
      pair(5, '2026-12-05', NOW + HOUR, { demand: perHour(100), lastFetchedAt: NOW - 3 * HOUR }), // not stale: read or not, after every stale day
    ]
    // One request of days 1–7 per slice: far fewer than the stale days.
    const ranked = rankCandidates(days, weekPlan(Array(SLICES).fill(1)), NOW, todayOf)
    expect(ranked.map((r) => r.productId)).toEqual([3, 2, 1, 4, 5])
    for (let i = 1; i < ranked.length; i++) expect(ranked[i]!.turnAt).toBeGreaterThan(ranked[i - 1]!.turnAt)
    expect([...days].sort(byTurnOrder(NOW)).map((d) => d.productId)).toEqual([3, 2, 1, 4, 5])
  })

  it('with no reads counted, the order is exactly the order of staleness', () => {
    const days = [pair(3, '2026-12-04', NOW - MINUTE), pair(1, '2026-12-03', NOW - 3 * HOUR), pair(2, '2026-12-03', NOW + HOUR)]
    const ranked = rankCandidates(days, weekPlan(Array(SLICES).fill(1)), NOW, todayOf)
    expect(ranked.map((r) => r.productId)).toEqual([1, 3, 2])
  })
})

describe('ample budget: the plan’s turns are the same, spare requests go to the most-read days', () => {
  it('no day stale: every day has the turn it has with no reads counted (an unread day keeps its tier’s target)', () => {
    const days: DayCounts[] = Array.from({ length: 60 }, (_, off) => ({
      date: addDays(TODAY, off),
      open: 60,
      staleBy: byBoundary(
        NOW,
        Array.from({ length: 60 }, (_, i) => ({ at: NOW + (i + 0.5) * MINUTE * (off <= 7 ? 4 : 24), count: 1 })),
      ),
    }))
    const plan = computePlan({ now: NOW, perMinute: 29.5, zones: [{ timeZone: TZ, days }] })
    const week = Array.from({ length: 60 }, (_, i) => pair(100 + i, '2026-12-03', NOW + (i + 1) * MINUTE, { lastFetchedAt: NOW - 4 * HOUR + (i + 1) * MINUTE }))
    const read = week.map((c, i) => ({ ...c, demand: i % 3 === 0 ? perHour(50 + i) : 0 }))
    const turns = (list: Candidate[]) =>
      new Map(
        rankCandidates(list, plan, NOW, todayOf)
          .filter((r) => r.turnAt <= NOW + 2 * HOUR)
          .map((r) => [r.productId, r.turnAt]),
      )
    const without = turns(week)
    expect(without.size).toBeGreaterThan(10)
    expect(turns(read)).toEqual(without)
  })

  it('spare requests: read days sooner than half their interval, after what the tier’s own rule sends; an unread day only past half', () => {
    // No turn of days 1–7 in the plan: whatever is sent is spare.
    const plan = weekPlan([])
    const unread = pair(1, '2026-12-03', NOW + 90 * MINUTE, { lastFetchedAt: NOW - 150 * MINUTE }) // past half its 4 h
    const readPastHalf = pair(5, '2026-12-06', NOW + 100 * MINUTE, { lastFetchedAt: NOW - 140 * MINUTE, demand: perHour(1) })
    const hot = pair(2, '2026-12-02', NOW + 230 * MINUTE, { lastFetchedAt: NOW - 10 * MINUTE, demand: perHour(20) })
    const warm = pair(3, '2026-12-04', NOW + 170 * MINUTE, { lastFetchedAt: NOW - 70 * MINUTE, demand: perHour(2) })
    const rare = pair(4, '2026-12-04', NOW + 230 * MINUTE, { lastFetchedAt: NOW - 10 * MINUTE, demand: perHour(2) }) // 1 read per 30 min: not yet
    const ranked = rankCandidates([unread, hot, warm, rare, readPastHalf], plan, NOW, todayOf)
    // The tier's own early refreshes, most read first; then refreshes only readers earn, most read first.
    expect(ranked.map((r) => r.productId)).toEqual([5, 1, 2, 3])
    expect(ranked.every((r) => r.early)).toBe(true)
    // Refreshes beyond the tier's own rule are marked, so they do not use up the tier's turns (ranker.ts).
    expect(ranked.map((r) => r.extra === true)).toEqual([false, false, true, true])
  })

  it('spare places keep their positions: what is due and at its turn stays ahead of them; refreshes only readers earn come last', () => {
    const list = [
      { id: 'extra-hot', turnAt: NOW + MINUTE, early: true, extra: true, demand: 99 },
      { id: 'due', turnAt: NOW - 1, demand: 0 },
      { id: 'spare-cold', turnAt: NOW + MINUTE, early: true, demand: 0 },
      { id: 'stale-late-turn', turnAt: NOW + 2 * MINUTE, demand: 0 },
      { id: 'spare-hot', turnAt: NOW + 3 * MINUTE, early: true, demand: 9 },
      { id: 'extra-warm', turnAt: Number.POSITIVE_INFINITY, early: true, extra: true, demand: 5 },
    ]
    expect(spareByDemand(list, NOW).map((r) => r.id)).toEqual(['due', 'spare-hot', 'stale-late-turn', 'spare-cold', 'extra-hot', 'extra-warm'])
  })

  it('how soon a day may go early: unread at half its interval; read at one expected read, not sooner than half of today’s 15 min', () => {
    const interval = 4 * HOUR
    expect(earlyAfterMs(interval, 0)).toBe(EARLY_AT_SHARE * interval)
    expect(earlyAfterMs(interval, perHour(2))).toBeCloseTo(30 * MINUTE, 3)
    expect(earlyAfterMs(interval, perHour(1000))).toBe(EARLY_AT_SHARE * 15 * MINUTE)
    // Read less than once per half interval: the unread rule, never later.
    expect(earlyAfterMs(interval, perHour(0.1))).toBe(EARLY_AT_SHARE * interval)
  })
})
