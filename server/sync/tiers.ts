/**
 * Freshness tiers: how old a day's data may be, by how far ahead the day is
 * (in the product's calendar). One fetch serves every tier; the tier only
 * decides when the answer goes stale, and the plan (policy/plan.ts) serves
 * the tiers in this order.
 */
export const MINUTE = 60_000
export const HOUR = 60 * MINUTE

export const TIERS = [
  // Today is sent when due rather than planned ahead, a lead before its
  // target (policy/deadline.ts todayLeadMs, derived from the engine's settings).
  { name: 'today', fromOffset: 0, toOffset: 0, targetMs: 15 * MINUTE },
  { name: 'week', fromOffset: 1, toOffset: 7, targetMs: 4 * HOUR },
  { name: 'month', fromOffset: 8, toOffset: 30, targetMs: 24 * HOUR },
  // /dates reaches 60 days, but the business asked no freshness of days
  // 31–59: they get what the nearer tiers leave, planned at every 3 days.
  { name: 'horizon', fromOffset: 31, toOffset: 59, targetMs: 72 * HOUR },
] as const

export type TierName = (typeof TIERS)[number]['name']
/** The tier names as a non-empty tuple (what `z.enum` takes). */
export const TIER_NAMES = TIERS.map((t) => t.name) as [TierName, ...TierName[]]
export type Tier = (typeof TIERS)[number]

/** The tier of a day `offset` days from today, or undefined outside the horizon. */
export function tierOf(offset: number): Tier | undefined {
  return TIERS.find((t) => offset >= t.fromOffset && offset <= t.toOffset)
}

/**
 * How old a day's data is against its tier, at read time: the one meaning
 * of "fresh" that status, metrics, the API's `freshness` and the dashboard
 * grid share. Fresh: age within the tier's target. Due: older, up to twice
 * the target. Overdue: older still. Never: not fetched yet. A day outside
 * every tier is never fresh; a fetch stamped slightly ahead of this clock
 * (another instance's skew) is.
 *
 * Today's day stops aging when its last slot starts (`cutoffAt`, as last
 * fetched: due.ts): nothing of it can be booked after, and the engine does
 * not fetch it again, so it keeps the class it had then instead of turning
 * overdue every evening.
 *
 * This is about the data, not the engine's queue: a day the engine fetches
 * early (before its target) is fresh, and one it holds back (a backoff, a
 * deferral) ages into due and overdue like any other.
 * SQL twin: `freshnessCountsSql` (horizon-counts.ts), held equal by tests/integration/horizon-counts.test.ts.
 */
export const FRESHNESS_CLASSES = ['fresh', 'due', 'overdue', 'never'] as const
export type FreshnessClass = (typeof FRESHNESS_CLASSES)[number]

/** Older than this many targets is overdue. */
export const OVERDUE_AFTER_TARGETS = 2

export function freshnessClass(lastFetchedAt: number | null, offset: number, now: number, cutoffAt?: number): FreshnessClass {
  if (lastFetchedAt === null) return 'never'
  const target = tierOf(offset)?.targetMs
  if (target === undefined) return 'overdue'
  const age = (offset === 0 && cutoffAt !== undefined ? Math.min(now, cutoffAt) : now) - lastFetchedAt
  return age <= target ? 'fresh' : age <= OVERDUE_AFTER_TARGETS * target ? 'due' : 'overdue'
}
