import { tierOf } from '../sync/tiers.ts'

export const FRESHNESS_STATES = ['fresh', 'stale', 'never'] as const
export type FreshnessState = (typeof FRESHNESS_STATES)[number]

export interface Freshness {
  /** When the day was last fetched successfully (ISO), null if never. */
  fetchedAt: string | null
  state: FreshnessState
}

/**
 * How current a served day is: 'never' (not fetched yet, so an empty answer
 * means nothing), 'fresh' (within its tier's target age), 'stale' otherwise.
 * A closed day that was fetched is fresh or stale like any other, which is
 * what lets a client tell "closed" from "not known yet".
 *
 * `offset` is the day's distance from today in the product's calendar; a day
 * outside every tier (should not be served) is never called fresh.
 */
export function freshnessOf(lastFetchedAt: Date | null | undefined, offset: number, now: number): Freshness {
  if (!lastFetchedAt) return { fetchedAt: null, state: 'never' }
  const tier = tierOf(offset)
  const age = now - lastFetchedAt.getTime()
  // A fetch stamped slightly ahead of this clock (another instance's skew) is still fresh.
  const fresh = tier !== undefined && age <= tier.targetMs
  return { fetchedAt: lastFetchedAt.toISOString(), state: fresh ? 'fresh' : 'stale' }
}
