import { addDays, daysBetween } from '../calendar/days.ts'
import type { Horizon } from '../calendar/horizon.ts'

/**
 * What /dates says of its own coverage (public-api.md, "Coverage"): the days
 * of the horizon never fetched, and the oldest fetch among those that were.
 * Pure: it reads the `fetched` text of availability_dates (migration
 * 20261212090000_coverage_reads), "YYYY-MM-DD:<epoch ms>" entries,
 * comma-separated, ascending, over a window at least as wide as the horizon.
 */
export interface Coverage {
  /** Days of the horizon with no stored fetch, ascending. */
  pending: string[]
  /** ISO time of the oldest fetch among the horizon's fetched days; null when none was. */
  oldestFetchedAt: string | null
}

export function coverageOf(fetched: string, h: Horizon): Coverage {
  const seen = new Set<string>()
  let oldest = Number.POSITIVE_INFINITY
  if (fetched) {
    for (const entry of fetched.split(',')) {
      const date = entry.slice(0, 10)
      if (date < h.today || date > h.last) continue
      seen.add(date)
      const at = Number(entry.slice(11))
      if (at < oldest) oldest = at
    }
  }
  const oldestFetchedAt = Number.isFinite(oldest) ? new Date(oldest).toISOString() : null
  // Every day fetched (the steady state): nothing to list, no calendar walk on the read path.
  if (seen.size === daysBetween(h.today, h.last) + 1) return { pending: [], oldestFetchedAt }
  const pending: string[] = []
  for (let date = h.today; date <= h.last; date = addDays(date, 1)) if (!seen.has(date)) pending.push(date)
  return { pending, oldestFetchedAt }
}
