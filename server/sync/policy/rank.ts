import { daysBetween, type IsoDate } from '../../calendar/days.ts'
import { isPastCutoff } from '../due.ts'
import { TIERS, tierOf, type Tier } from '../tiers.ts'
import { isPlanned, isRecheck, servedTier, type DueReason } from './deadline.ts'
import { byStaleness, byTurnOrder, earlyAllowed, spareByDemand } from './demand.ts'
import { PLANNED_TIERS, turnsAt, type Plan, type PlannedTier } from './plan.ts'

/**
 * The order of sending, from the plan. Pure.
 *
 * 1. Today's days that are due: today is not planned ahead, it is sent
 *    when due, and the plan leaves it the share it needs.
 * 2. "Run now" requests, oldest request first, nearer days first.
 * 3. Every other pair at its turn: a planned pair (its answer goes stale at
 *    `nextDueAt`, or was never fetched) takes the plan's n-th request of its
 *    tier when it is n-th of that tier's order (policy/demand.ts
 *    `byTurnOrder`: stale days most read first, then by staleness); so does
 *    a re-check of a day with nothing on sale once due, in the slower tier
 *    it is served in (deadline.ts `servedTier`); a retry (a backoff, a
 *    partner's reset) its due time, once that has passed.
 *
 * A pair whose turn has not come is still listed (marked `early`), and so is
 * today's day not yet due: when the budget has room that nothing due needs,
 * the next turns go early rather than the room being lost, the most-read
 * days first (`spareByDemand`). Not earlier than half its interval since the
 * last fetch (sooner for a day people read: `earlyAllowed`), though, so a
 * key far larger than the catalogue needs is not spent on refreshing the
 * same days over and over. Timed re-checks and retries never go early.
 * Demand only orders: the plan's turns per tier are the same read or not.
 */
export { EARLY_AT_SHARE } from './demand.ts'

export interface Candidate {
  productId: number
  date: IsoDate
  timeZone: string
  /** Planned: when the stored answer goes stale; timed: not before. */
  nextDueAt: number
  reason: DueReason
  forcedAt: number | null
  lastSlotStart: string | null
  lastFetchedAt: number | null
  /** Reads counted for the day, decayed to the listing's instant (policy/demand.ts); absent: none. */
  demand?: number
}

export interface Ranked extends Candidate {
  offset: number
  /** The tier it is served in: the one it is in when it goes stale. */
  tier: Tier
  /** When it is sent, by the plan (today and timed pairs: when due). */
  turnAt: number
  /** Sent before it is due: claimed only if nobody fetched it since it was listed. */
  early?: boolean
  /** Early only because people read it (sooner than its tier's rule): a refresh beyond the plan's turns, not one of them. */
  extra?: boolean
}

const TIER_ORDER = new Map(TIERS.map((t, i) => [t.name, i]))

/**
 * `sent`: per planned tier, the requests sent since the plan was made (by
 * this instance): the next turn is the plan's request after those, so a day
 * just fetched, now last in its tier's order, does not inherit the turn
 * the plan made for it while it was stale.
 */
export function rankCandidates(
  candidates: readonly Candidate[],
  plan: Plan | undefined,
  now: number,
  todayOf: (tz: string) => IsoDate,
  sent?: Readonly<Record<PlannedTier, number>>,
): Ranked[] {
  const today: Ranked[] = []
  const forced: Ranked[] = []
  const rest: Ranked[] = []
  const planned = new Map<PlannedTier, Ranked[]>(PLANNED_TIERS.map((t) => [t, []]))
  for (const c of candidates) {
    const offset = daysBetween(todayOf(c.timeZone), c.date)
    if (!tierOf(offset) || (c.forcedAt === null && isPastCutoff(c, offset, now))) continue
    const tier = servedTier(c, now)
    if (!tier) continue
    const r: Ranked = { ...c, offset, tier, turnAt: c.nextDueAt }
    if (c.forcedAt !== null) forced.push(r)
    else if (tier.name === 'today') {
      if (c.nextDueAt <= now) today.push(r)
      else if (earlyAllowed(c, now).allowed) rest.push({ ...r, early: true })
    } else if (isRecheck(c.reason)) {
      // Due: one of its served tier's stale days, at that tier's turns.
      if (c.nextDueAt <= now) planned.get(tier.name as PlannedTier)!.push(r)
    } else if (!isPlanned(c.reason)) {
      if (c.nextDueAt <= now) rest.push(r)
    } else planned.get(tier.name as PlannedTier)!.push(r)
  }
  for (const [name, list] of planned) {
    list.sort(byTurnOrder(now))
    const turns = plan ? turnsAt(plan, name, now, list.length, sent?.[name]) : list.map((r) => r.nextDueAt)
    list.forEach((r, i) => {
      r.turnAt = turns[i]!
      // Not stale yet: claimed only if unchanged since listed. Before its
      // turn, only with half its interval gone; at its turn, the plan wants it now.
      if (r.nextDueAt > now) {
        if (r.turnAt > now) {
          const early = earlyAllowed(r, now)
          if (!early.allowed) return
          if (early.byDemand) r.extra = true
        }
        r.early = true
      }
      rest.push(r)
    })
  }
  today.sort(byStaleness)
  forced.sort((a, b) => a.forcedAt! - b.forcedAt! || a.offset - b.offset || a.productId - b.productId)
  rest.sort((a, b) => a.turnAt - b.turnAt || TIER_ORDER.get(a.tier.name)! - TIER_ORDER.get(b.tier.name)! || byStaleness(a, b))
  return [...today, ...forced, ...spareByDemand(rest, now)]
}
