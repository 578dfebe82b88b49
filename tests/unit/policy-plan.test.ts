import { describe, expect, it } from 'vitest'
import { addDays, localDate, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { byBoundary, computePlan, PLAN_MS, plannedBy, SLICE_MS, SLICES, turnsAt, type DayCounts, type Plan } from '../../server/sync/policy/plan.ts'
import { HOUR, MINUTE, TIERS } from '../../server/sync/tiers.ts'

/**
 * The plan from counts alone: a catalogue where every product opens every
 * day until `lastSlot`, answers spread evenly over each tier's target
 * (the steady state), in one or more zones.
 */
function zone(timeZone: string, now: number, products: number, lastSlot: string) {
  const today = localDate(now, timeZone)
  const days: DayCounts[] = []
  for (let off = 0; off < 60; off++) {
    const date = addDays(today, off)
    const target = TIERS.find((t) => off >= t.fromOffset && off <= t.toOffset)!.targetMs
    const stale = Array.from({ length: products }, (_, i) => ({ at: now + ((i + 0.5) / products) * target, count: 1 }))
    const ended = off <= 1 ? byBoundary(now, [{ at: zonedTimeToInstant(date, lastSlot, timeZone), count: products }]) : undefined
    days.push({ date, open: products, staleBy: byBoundary(now, stale), endedBy: ended })
  }
  return { timeZone, days }
}

const TZ = 'Asia/Singapore'
const sum = (a: Float64Array, from = 0, to = a.length) => a.slice(from, to).reduce((s, x) => s + x, 0)
/** Slices from local `from` to `to` (hours after the plan start's local hour `h0`). */
const hours = (h0: number, from: number, to: number) => [Math.round(((from - h0) * HOUR) / SLICE_MS), Math.round(((to - h0) * HOUR) / SLICE_MS)] as const

describe('the plan', () => {
  it("counts what the live lane is expected to take, not more: the rest of the budget is the tiers'", () => {
    const now = zonedTimeToInstant('2026-12-01', '09:00', TZ)
    const zones = [zone(TZ, now, 400, '17:00')]
    const without = computePlan({ now, perMinute: 29.5, zones })
    const lane = computePlan({ now, perMinute: 29.5, livePerMinute: 2, zones })
    expect(lane.capacity).toBeCloseTo(27.5 * (SLICE_MS / MINUTE))
    // Oversubscribed: the tiers get exactly the two requests a minute less.
    const planned = (p: Plan) => sum(p.tiers.week) + sum(p.tiers.month) + sum(p.tiers.horizon)
    expect(planned(lane)).toBeLessThan(planned(without))
    expect(planned(without) - planned(lane)).toBeLessThanOrEqual(2 * (PLAN_MS / MINUTE) + 1e-6)
  })

  it('never plans more than the budget, today first', () => {
    const now = zonedTimeToInstant('2026-12-01', '14:00', TZ)
    const plan = computePlan({ now, perMinute: 29.5, zones: [zone(TZ, now, 400, '17:00')] })
    for (let k = 0; k < SLICES; k++) {
      const used = Math.min(plan.capacity, plan.today[k]!) + plan.tiers.week[k]! + plan.tiers.month[k]! + plan.tiers.horizon[k]!
      expect(used).toBeLessThanOrEqual(plan.capacity + 1e-6)
    }
  })

  it('with room to spare (sample-like), every tier is covered at every boundary', () => {
    const now = zonedTimeToInstant('2026-12-01', '14:00', TZ)
    const plan = computePlan({ now, perMinute: 29.5, zones: [zone(TZ, now, 60, '17:00')] })
    for (const t of ['week', 'month', 'horizon'] as const) expect(sum(plan.uncovered[t])).toBe(0)
    // Days 1–7 in the steady state: about one request per open day per 4 h.
    expect(plannedBy(plan, 'week', now + 4 * HOUR)).toBeCloseTo(60 * 7, -1)
  })

  it('counts due re-checks in the tier they are served in: that tier plans a request for each, the others nothing more', () => {
    const now = zonedTimeToInstant('2026-12-01', '14:00', TZ)
    const zones = [zone(TZ, now, 60, '17:00')]
    const without = computePlan({ now, perMinute: 29.5, zones })
    const due = byBoundary(now, [
      { at: now, count: 30 },
      { at: now + 6 * HOUR, count: 20 },
    ])
    const withRechecks = computePlan({ now, perMinute: 29.5, zones: [{ ...zones[0]!, rechecks: { month: due } }] })
    expect(sum(withRechecks.tiers.month) - sum(without.tiers.month)).toBeCloseTo(50, 6)
    expect(sum(withRechecks.tiers.week)).toBeCloseTo(sum(without.tiers.week), 6)
    // The 30 due now are planned at once (the first slice), with room to spare.
    expect(plannedBy(withRechecks, 'month', now + 5 * MINUTE) - plannedBy(without, 'month', now + 5 * MINUTE)).toBeGreaterThanOrEqual(30 - 1e-6)
  })

  it('before a midnight whose hours today takes, days 1–7 are fetched late in the evening (a sweep), not earlier', () => {
    // 400 products open daily until 17:00 at 29.5 a minute: from midnight to 17:00 today asks 26.7 a minute.
    const now = zonedTimeToInstant('2026-12-01', '14:00', TZ)
    const plan = computePlan({ now, perMinute: 29.5, zones: [zone(TZ, now, 400, '17:00')] })
    // (17:00–19:00 catch up on what today's afternoon left stale.)
    const [e0, e1] = hours(14, 19, 20)
    const [s0, s1] = hours(14, 20, 24)
    // Per hour, the last 4 h before midnight get several times what the hour before gets.
    expect(sum(plan.tiers.week, s0, s1) / 4).toBeGreaterThan(3 * sum(plan.tiers.week, e0, e1))
    // And days 8–30 that go stale in tomorrow's busy hours are fetched the evening before (nothing of the key is left after midnight).
    const [m0] = hours(14, 24, 25)
    expect(sum(plan.tiers.month, 0, m0)).toBeGreaterThan(0)
    expect(sum(plan.tiers.month, m0, SLICES)).toBeLessThan(sum(plan.tiers.month, 0, m0) / 10)
  })

  it('without a busy midnight (few open days), no sweep: days 1–7 keep their steady pace', () => {
    const now = zonedTimeToInstant('2026-12-01', '14:00', TZ)
    const plan = computePlan({ now, perMinute: 29.5, zones: [zone(TZ, now, 60, '17:00')] })
    const [s0, s1] = hours(14, 20, 24)
    const [e0, e1] = hours(14, 14, 18)
    const evening = sum(plan.tiers.week, s0, s1)
    expect(Math.abs(evening - sum(plan.tiers.week, e0, e1))).toBeLessThan(evening * 0.1)
  })

  it("counts each zone's own midnight: today's need rises at each", () => {
    const now = zonedTimeToInstant('2026-12-01', '12:00', 'UTC')
    const zones = ['Asia/Singapore', 'Europe/London', 'America/New_York'].map((z) => zone(z, now, 40, '20:00'))
    const plan = computePlan({ now, perMinute: 29.5, zones })
    // Right after each zone's midnight its 40 open days ask 40 per 15 min, i.e. 40/3 per 5-minute slice.
    for (const z of ['Asia/Singapore', 'Europe/London', 'America/New_York']) {
      const midnight = zonedTimeToInstant(addDays(localDate(now, z), 1), '00:00', z)
      if (midnight >= now + PLAN_MS) continue
      const k = Math.floor((midnight - now) / SLICE_MS) + 1
      const before = Math.floor((midnight - now - HOUR) / SLICE_MS)
      expect(plan.today[k]! - plan.today[before]!).toBeGreaterThan(10)
    }
  })

  it('turns follow the plan: the n-th stalest pair of a tier at the n-th planned request, infinity beyond', () => {
    const now = zonedTimeToInstant('2026-12-01', '14:00', TZ)
    const plan: Plan = computePlan({ now, perMinute: 29.5, zones: [zone(TZ, now, 60, '17:00')] })
    const turns = turnsAt(plan, 'week', now, 50)
    for (let i = 1; i < turns.length; i++) expect(turns[i]!).toBeGreaterThanOrEqual(turns[i - 1]!)
    expect(turns[0]!).toBeGreaterThanOrEqual(now)
    // The n-th turn is when the plan has placed n requests.
    expect(plannedBy(plan, 'week', turns[10]!)).toBeCloseTo(10, 5)
    const all = turnsAt(plan, 'horizon', now, 1_000_000)
    expect(all.at(-1)).toBe(Number.POSITIVE_INFINITY)
    // Later in the plan, the same position's turn comes later.
    expect(turnsAt(plan, 'week', now + 10 * MINUTE, 1)[0]!).toBeGreaterThanOrEqual(now + 10 * MINUTE)
  })

  it('costs little: a plan of 4 zones × 60 days', () => {
    const now = zonedTimeToInstant('2026-12-01', '12:00', 'UTC')
    const zones = ['Asia/Singapore', 'Europe/London', 'America/New_York', 'Pacific/Auckland'].map((z) => zone(z, now, 100, '18:00'))
    const plan = computePlan({ now, perMinute: 29.5, zones })
    expect(plan.tiers.week.length).toBe(SLICES)
  })

  it("plans nothing while a 429's halt lasts, and the cover that needed those slices lands after or before it", () => {
    const now = zonedTimeToInstant('2026-12-01', '14:00', TZ)
    const input = { now, perMinute: 29.5, zones: [zone(TZ, now, 60, '17:00')] }
    const halted = computePlan({ ...input, haltedUntil: now + 30 * MINUTE })
    const free = computePlan(input)
    const first = Math.round((30 * MINUTE) / SLICE_MS)
    for (const t of ['week', 'month', 'horizon'] as const) expect(sum(halted.tiers[t], 0, first), t).toBe(0)
    expect(sum(free.tiers.week, 0, first)).toBeGreaterThan(0)
    // What the halt could not cover is counted, not hidden.
    expect(sum(halted.uncovered.week)).toBeGreaterThan(sum(free.uncovered.week))
  })
})
