import { daysBetween, localDate, type IsoDate } from '../../calendar/days.ts'
import { tierOf, type TierName } from '../tiers.ts'
import { isPlanned, servedTier, type DueReason } from './deadline.ts'
import { SLICE_MS, turnsAt, type Plan, type PlannedTier } from './plan.ts'

/**
 * Why a (product, date) is where it is, in the policy's own terms. Pure:
 * the caller reads the pair's row and its place in its tier's order.
 */
export const EXPLAIN_REASONS = [
  'plan',
  'never',
  'today',
  'run',
  'backoff',
  'rate_limited',
  'empty',
  'closed',
  'cutoff',
  'paused',
  'in-flight',
  'outside',
  'live',
] as const
export type ExplainReason = (typeof EXPLAIN_REASONS)[number]

export interface PairFacts {
  productId: number
  date: IsoDate
  timeZone: string
  synced: boolean
  nextDueAt: number
  reason: DueReason
  forcedAt: number | null
  claimedUntil: number | null
  lastFetchedAt: number | null
  lastOutcome: string | null
  lastError: string | null
  /** Reads counted for the day, decayed to now (policy/demand.ts); 0 when never read. */
  demand?: number
  /** The last successful fetch was a live check (sync/live.ts), not the plan's. */
  fetchedLive?: boolean
}

export interface Explanation {
  productId: number
  date: IsoDate
  /** The tier the day is in now (by its offset in its product's calendar); null outside the horizon. */
  tier: TierName | null
  /** The tier it is served in: the one it is in when its answer goes stale. */
  servedAs: TierName | null
  lastFetchedAt: string | null
  lastOutcome: string | null
  lastError: string | null
  /** When it is next sent: the plan's turn, or its timed due time (null: not while paused, or beyond the plan). */
  dueAt: string | null
  /** Planned pairs: when the stored answer goes stale. */
  staleAt: string | null
  reason: ExplainReason
  /** The plan's slice the turn falls in. */
  slice: { from: string; to: string } | null
  /** Its place (1-based) in its tier's order of turns (stale days most read first, then by staleness); null when not planned. */
  rank: number | null
  /** Reads counted for the day across instances, decayed with a half-life of a day (policy/demand.ts): what orders it within its tier. */
  demand: number
  detail: string
}

const TIER_LABEL: Record<TierName, string> = { today: 'today', week: 'days 1–7', month: 'days 8–30', horizon: 'days 31–59' }
const iso = (t: number | null) => (t === null || !Number.isFinite(t) ? null : new Date(t).toISOString())

export function explainPair(f: PairFacts, plan: Plan | undefined, now: number, position: number): Explanation {
  const e = explainDecision(f, plan, now, position)
  // A live check's answer stands until the policy's next turn: say who fetched it, keep when it is sent next.
  if (!f.fetchedLive || f.lastFetchedAt === null || !['plan', 'today', 'empty', 'closed', 'cutoff'].includes(e.reason)) return e
  return { ...e, reason: 'live', detail: `last fetched by a live check at ${iso(f.lastFetchedAt)}; then: ${e.detail}` }
}

function explainDecision(f: PairFacts, plan: Plan | undefined, now: number, position: number): Explanation {
  const offset = daysBetween(localDate(now, f.timeZone), f.date)
  const tier = tierOf(offset)?.name ?? null
  const served = servedTier(f, now)?.name ?? null
  const base = {
    productId: f.productId,
    date: f.date,
    tier,
    servedAs: served,
    lastFetchedAt: iso(f.lastFetchedAt),
    lastOutcome: f.lastOutcome,
    lastError: f.lastError,
    staleAt: null,
    slice: null,
    rank: null,
    // Three decimals: a count, not a measurement.
    demand: Math.round((f.demand ?? 0) * 1000) / 1000,
  }
  const timed = (reason: ExplainReason, at: number | null, detail: string): Explanation => ({ ...base, reason, dueAt: iso(at), detail })
  if (!tier) return timed('outside', null, 'outside the 60-day horizon: not fetched')
  if (!f.synced) return timed('paused', null, 'its product is paused or removed: nothing is sent for it')
  if (f.claimedUntil !== null && f.claimedUntil > now) return timed('in-flight', now, 'a request for it is in flight')
  if (f.forcedAt !== null) return timed('run', now, `"run now" asked for it at ${iso(f.forcedAt)}: sent after today's due days`)
  if (!isPlanned(f.reason) || served === 'today') {
    const why: Record<DueReason, string> = {
      never: 'never fetched',
      tier: 'stale: sent when the budget first allows',
      today: 'served as today: sent when due, a lead before its 15 min (tomorrow: in the 15 min before midnight)',
      empty: 'last seen with nothing on sale: re-checked at the next slower tier’s target, then sent at that tier’s turns (servedAs)',
      closed: 'a weekday the product is known to close: re-checked two tiers slower, then sent at that tier’s turns (servedAs)',
      cutoff: "today's last slot has started: not fetched again today",
      backoff: 'the last fetch failed: retried after a doubling backoff',
      rate_limited: 'the partner answered 429: retried at its reset',
    }
    return timed(f.reason === 'tier' ? 'plan' : f.reason, f.nextDueAt, why[f.reason])
  }
  const [turn] = plan ? turnsAt(plan, served as PlannedTier, now, position + 1).slice(position) : [f.nextDueAt]
  const t = turn ?? Number.POSITIVE_INFINITY
  const slice =
    plan && Number.isFinite(t)
      ? (() => {
          const k = Math.floor((t - plan.start) / SLICE_MS)
          return { from: iso(plan.start + k * SLICE_MS)!, to: iso(plan.start + (k + 1) * SLICE_MS)! }
        })()
      : null
  return {
    ...base,
    reason: f.reason === 'never' ? 'never' : 'plan',
    dueAt: iso(t),
    staleAt: f.reason === 'never' ? null : iso(f.nextDueAt),
    slice,
    rank: position + 1,
    detail: Number.isFinite(t)
      ? `number ${position + 1} of ${TIER_LABEL[served!]} in its order of turns (stale days most read first, then by staleness): the plan's request for it falls in this slice`
      : `number ${position + 1} of ${TIER_LABEL[served!]}: beyond what the plan sends in the next 24 h; sent when budget is left over`,
  }
}
