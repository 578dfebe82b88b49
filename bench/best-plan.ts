import { addDays, startOfDay, zonedTimeToInstant } from '../server/calendar/days.ts'
import type { Catalogue } from '../server/sandbox/catalogue.ts'
import { TIERS, type TierName } from '../server/sync/tiers.ts'

/**
 * What a day of perfect freshness costs, and the best any planner could do
 * with a given budget. Pure: computed from the catalogue, which is a pure
 * function of time, for the calendar day `day`.
 *
 * The model: a day "read" counts only while it has something to read (today
 * before its last slot starts, other days with slots), as the simulation's
 * freshness figures do; closed days need nothing (a perfect planner knows
 * them). Keeping today within 15 min from midnight to its last slot takes
 * ceil(span / 15 min) fetches; days 1–7 within 4 h take 6 a day; days 8–30
 * within 24 h take 1; days 31–59 ask nothing of the business, so their need
 * is shown at their own 72 h refresh (1/3 a day). The best planner serves the
 * tiers in order, today first, each as fully as the budget left allows.
 */
export type Needs = Record<TierName, number>

export function dailyNeeds(catalogue: Catalogue, productIds: readonly number[], day: string, timeZone: string): Needs {
  const dayStart = startOfDay(day, timeZone)
  const needs: Needs = { today: 0, week: 0, month: 0, horizon: 0 }
  const [today, week, , horizon] = TIERS
  for (const id of productIds) {
    const slots = catalogue.inventory(id, day, dayStart)
    if (slots.length) {
      const last = slots.reduce((m, s) => (s.startTime > m ? s.startTime : m), '00:00')
      const span = zonedTimeToInstant(day, last, timeZone) - dayStart
      needs.today += Math.max(1, Math.ceil(span / today.targetMs))
    }
    for (let offset = 1; offset <= 59; offset++) {
      if (!catalogue.inventory(id, addDays(day, offset), dayStart).length) continue
      if (offset <= week.toOffset) needs.week += 86_400_000 / week.targetMs
      else if (offset <= 30) needs.month += 1
      else needs.horizon += 86_400_000 / horizon.targetMs
    }
  }
  return needs
}

/** Per tier, the share of its need the budget covers when tiers are served in order (1 = fully fresh). */
export function bestShares(needs: Needs, budgetPerDay: number): Record<TierName, number> {
  let left = budgetPerDay
  const out = {} as Record<TierName, number>
  for (const t of TIERS) {
    const need = needs[t.name]
    const spent = Math.min(need, Math.max(0, left))
    out[t.name] = need === 0 ? 1 : spent / need
    left -= spent
  }
  return out
}
