import { freshnessClass } from '../sync/tiers.ts'

export const FRESHNESS_STATES = ['fresh', 'stale', 'never'] as const
export type FreshnessState = (typeof FRESHNESS_STATES)[number]

/** What became of a live check that could not answer a fresh day (public-api.md "Live check"). */
export const LIVE_RESULTS = ['refused', 'failed'] as const

export interface Freshness {
  /** When the day was last fetched successfully (ISO), null if never. */
  fetchedAt: string | null
  state: FreshnessState
  /** Only when a read asked for a maximum age the stored day is older than, and no fresh day could be had. */
  live?: (typeof LIVE_RESULTS)[number]
  /** `live: "failed"`: why. */
  reason?: string
  /** `live: "refused"`: seconds until a live check may be granted (REST: also the Retry-After header). */
  retryAfterS?: number
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
