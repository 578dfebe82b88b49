import { freshnessClass } from '../sync/tiers.ts'

export const FRESHNESS_STATES = ['fresh', 'stale', 'never'] as const
export type FreshnessState = (typeof FRESHNESS_STATES)[number]

export interface Freshness {
  /** When the day was last fetched successfully (ISO), null if never. */
  fetchedAt: string | null
  state: FreshnessState
}

/**
 * How current a served day is: 'never' (not fetched yet, so an empty answer
 * means nothing), 'fresh' (within its tier's target age: `freshnessClass`,
 * the meaning status and the dashboard share), 'stale' otherwise. A closed
 * day that was fetched is fresh or stale like any other, which is what lets
 * a client tell "closed" from "not known yet".
 *
 * `offset` is the day's distance from today in the product's calendar.
 * The stored-day read has no last slot start, so today's cut-off (status
 * and the grid stop aging today there) is not applied: after its last slot
 * a day of today reads stale here once its target has passed.
 */
export function freshnessOf(lastFetchedAt: Date | null | undefined, offset: number, now: number): Freshness {
  if (!lastFetchedAt) return { fetchedAt: null, state: 'never' }
  const fresh = freshnessClass(lastFetchedAt.getTime(), offset, now) === 'fresh'
  return { fetchedAt: lastFetchedAt.toISOString(), state: fresh ? 'fresh' : 'stale' }
}
