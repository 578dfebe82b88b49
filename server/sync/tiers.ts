/**
 * Freshness tiers: how old a day's data may be, by how far ahead the day is
 * (in the product's calendar). One fetch serves every tier; the tier only
 * decides when the next one is due.
 */
export const MINUTE = 60_000
export const HOUR = 60 * MINUTE

export const TIERS = [
  { name: 'today', fromOffset: 0, toOffset: 0, targetMs: 15 * MINUTE },
  { name: 'week', fromOffset: 1, toOffset: 7, targetMs: 4 * HOUR },
  { name: 'month', fromOffset: 8, toOffset: 30, targetMs: 24 * HOUR },
  // /dates reaches 60 days; beyond the business's 30-day tier a daily refresh
  // keeps the oldest day under 36 h when the budget allows.
  { name: 'horizon', fromOffset: 31, toOffset: 59, targetMs: 24 * HOUR },
] as const

export type TierName = (typeof TIERS)[number]['name']
export type Tier = (typeof TIERS)[number]

/** The tier of a day `offset` days from today, or undefined outside the horizon. */
export function tierOf(offset: number): Tier | undefined {
  return TIERS.find((t) => offset >= t.fromOffset && offset <= t.toOffset)
}
