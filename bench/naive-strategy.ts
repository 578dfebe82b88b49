import { daysBetween, localDate, type IsoDate } from '../server/calendar/days.ts'
import type { PlanStrategy } from '../server/sync/engine.ts'
import type { Candidate, Ranked } from '../server/sync/policy/rank.ts'
import { tierOf } from '../server/sync/tiers.ts'

/**
 * The baseline a smart planner has to beat: the business's ask taken
 * literally. Every (product, date) is refreshed at a fixed interval (today
 * 15 min, days 1–7 4 h, every later day daily, as /dates shows them), first
 * come first served, with no learning (closed days, end of day, selling out)
 * and no tier weighting.
 */
const DAILY = 86_400_000
export const naiveStrategy: PlanStrategy = {
  nextDue(d, now) {
    const tier = tierOf(daysBetween(localDate(now, d.timeZone), d.date))
    return { at: now + Math.min(tier?.targetMs ?? DAILY, DAILY), reason: 'tier' }
  },
  rank(candidates: readonly Candidate[], _plan, now: number, todayOf: (tz: string) => IsoDate): Ranked[] {
    const out: Ranked[] = []
    for (const c of candidates) {
      const offset = daysBetween(todayOf(c.timeZone), c.date)
      const tier = tierOf(offset)
      if (!tier || (c.nextDueAt > now && c.forcedAt === null)) continue
      out.push({ ...c, offset, tier, turnAt: c.nextDueAt })
    }
    return out.sort((a, b) => a.nextDueAt - b.nextDueAt || a.productId - b.productId)
  },
}
