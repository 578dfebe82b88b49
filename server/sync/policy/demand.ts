import { TIERS } from '../tiers.ts'

/**
 * Demand: how much people read a (product, date), and what that is worth to
 * the policy. Pure.
 *
 * The decay law. Each read of a day adds 1 to its count (a read spread over
 * n days adds 1/n to each); the count halves every `DEMAND_HALF_LIFE_MS`:
 *
 *     demand(t) = Σ_reads weight · 2^(−(t − t_read) / H)
 *
 * so a day read at a steady λ reads per ms settles at λ · H / ln 2 (the
 * mean life, H / ln 2, times the rate): `readsPerMs` turns a count back
 * into a rate. Counts from several instances add up (a sum of sums).
 *
 * H is one day, derived from two facts, not tuned: shoppers read by day and
 * hardly at night, so anything much shorter than that cycle would rank a
 * day by the hour it was last read in (every count near 0 each morning);
 * and the plan it orders covers the next 24 h (policy/plan.ts PLAN_MS), so a
 * count that moves within a day follows a day that becomes popular within
 * the plan it serves.
 */
export const DEMAND_HALF_LIFE_MS = 24 * 60 * 60_000

/** `reads` counted as of `at`, decayed to `now` (a count from the future is taken as of now). */
export function decayed(reads: number, at: number, now: number): number {
  return reads * 2 ** (-Math.max(0, now - at) / DEMAND_HALF_LIFE_MS)
}

/** A merged count: `reads` as of `at` with `added` counted at `now` (how a flush adds to the stored count). */
export function merged(stored: { reads: number; at: number } | undefined, added: number, now: number): { reads: number; at: number } {
  if (!stored) return { reads: added, at: now }
  return { reads: decayed(stored.reads, stored.at, now) + added, at: Math.max(stored.at, now) }
}

/** The steady read rate (reads per ms) a decayed count stands for: count = rate × H / ln 2. */
export function readsPerMs(demand: number): number {
  return (demand * Math.LN2) / DEMAND_HALF_LIFE_MS
}

/**
 * Within a planned tier, the order turns are given in (the n-th day takes
 * the tier's n-th turn). Days already stale come first, most read first: once
 * a day is stale every read of it until its refresh is a stale read, so the
 * stale reads a turn saves are its day's read rate × how much earlier it
 * comes, and giving the earliest turns to the highest rates serves the
 * fewest stale reads (the rearrangement inequality). Equal demand (nobody
 * reads either), then days not yet stale: by staleness, the plan's own
 * order, which is what covers each day before it goes stale. With no reads
 * counted this is exactly the order of staleness.
 */
export function byTurnOrder(now: number) {
  return (a: TurnFacts, b: TurnFacts): number => {
    const sa = a.nextDueAt <= now
    const sb = b.nextDueAt <= now
    if (sa !== sb) return sa ? -1 : 1
    if (sa) {
      const d = (b.demand ?? 0) - (a.demand ?? 0)
      if (d !== 0) return d
    }
    return byStaleness(a, b)
  }
}

export interface TurnFacts {
  productId: number
  date: string
  nextDueAt: number
  demand?: number
}

export function byStaleness(a: TurnFacts, b: TurnFacts): number {
  return a.nextDueAt - b.nextDueAt || a.productId - b.productId || (a.date < b.date ? -1 : a.date > b.date ? 1 : 0)
}

/**
 * Before its turn, a pair may use budget nothing due needs once
 * `EARLY_AT_SHARE` of the way from its last fetch to its staleness: a key
 * far larger than the catalogue needs is not spent on refreshing the same
 * days over and over.
 */
export const EARLY_AT_SHARE = 0.5

const [TODAY_TIER] = TIERS

/**
 * How long after its last fetch a pair may go early. Nobody reads it:
 * `EARLY_AT_SHARE` of its interval. Read: sooner, as soon as one read is
 * expected since its last fetch (1 / rate: a refresh before that is, on
 * average, read by nobody), but not sooner than `EARLY_AT_SHARE` of the
 * strictest business target (today's 15 min), the freshest the business
 * asks any day to be. Never later than the unread rule.
 */
export function earlyAfterMs(intervalMs: number, demand: number): number {
  const unread = EARLY_AT_SHARE * intervalMs
  const rate = readsPerMs(demand)
  if (rate <= 0) return unread
  return Math.min(unread, Math.max(1 / rate, EARLY_AT_SHARE * TODAY_TIER.targetMs))
}

/** Whether a pair (planned, or today's not yet due) may go early at `now`; `byDemand`: only because it is read. */
export function earlyAllowed(r: { lastFetchedAt: number | null; nextDueAt: number; demand?: number }, now: number): { allowed: boolean; byDemand: boolean } {
  if (r.lastFetchedAt === null) return { allowed: true, byDemand: false }
  const elapsed = now - r.lastFetchedAt
  const interval = r.nextDueAt - r.lastFetchedAt
  if (elapsed >= EARLY_AT_SHARE * interval) return { allowed: true, byDemand: false }
  const allowed = elapsed >= earlyAfterMs(interval, r.demand ?? 0)
  return { allowed, byDemand: allowed }
}

/**
 * Spare requests (early, before their turn: budget nothing due needs) go
 * to the most-read days first. Those the tier's own rule allows keep their
 * places in the order (what is due and the plan's turns are untouched);
 * which day fills each place is chosen by demand, ties in the order they
 * had. Those only a day's readers allow (`extra`: sooner than the tier
 * asks) come after everything else, most read first: a refresh of a day
 * still fresh is worth less than any stale day's, read or not soon.
 * Returns a new list.
 */
export function spareByDemand<T extends { early?: boolean; extra?: boolean; turnAt: number; demand?: number }>(list: readonly T[], now: number): T[] {
  const mostRead = (a: T, b: T) => (b.demand ?? 0) - (a.demand ?? 0)
  const out = list.filter((r) => !r.extra)
  const places: number[] = []
  out.forEach((r, i) => {
    if (r.early && r.turnAt > now) places.push(i)
  })
  // Array.prototype.sort is stable: equal demand keeps the order by turn.
  const spare = places.map((i) => out[i]!).sort(mostRead)
  places.forEach((p, k) => {
    out[p] = spare[k]!
  })
  return [...out, ...list.filter((r) => r.extra).sort(mostRead)]
}
