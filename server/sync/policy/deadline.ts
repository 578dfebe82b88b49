import { addDays, daysBetween, localDate, startOfDay, type IsoDate } from '../../calendar/days.ts'
import { cutoffAt } from '../due.ts'
import { MINUTE, TIERS, tierOf, type Tier } from '../tiers.ts'

/**
 * When a (product, date) is next worth a request, and why: the rules that
 * follow one fetch. Pure. The plan (plan.ts) decides when, before that
 * instant, the request is sent; these rules decide the instant itself.
 */

/** Why a pair's `next_due_at` is what it is (stored in `day_fetch_state.due_reason`, answered by `sync/explain`). */
export const DUE_REASONS = ['never', 'tier', 'today', 'empty', 'closed', 'cutoff', 'backoff', 'rate_limited'] as const
export type DueReason = (typeof DUE_REASONS)[number]

/**
 * Planned: `next_due_at` is when the stored answer goes stale, and the plan
 * places the request before it. The others are timed: not sent before
 * `next_due_at` (today's tier, a backoff, a partner's reset, a re-check).
 */
export const PLANNED_REASONS: readonly DueReason[] = ['never', 'tier']
export const isPlanned = (r: DueReason) => PLANNED_REASONS.includes(r)

/** Failures retry sooner than the tier would, doubling from this, capped at the tier's target. */
export const FAILURE_BACKOFF_MS = 1 * MINUTE

/**
 * The first instant, from a fetch at `fetchedAt`, at which `date`'s stored
 * answer is older than the target of the tier the day is in at that
 * instant. A day crossing into a stricter tier at a midnight is stale there
 * if its answer is already older than the stricter target: day 8 fetched at
 * noon is stale at midnight, when it becomes day 7.
 */
export function staleAt(fetchedAt: number, date: IsoDate, timeZone: string): number {
  let day = localDate(fetchedAt, timeZone)
  let from = fetchedAt
  // A horizon is 60 days: the loop ends well within that many midnights.
  for (;;) {
    const offset = daysBetween(day, date)
    if (offset < 0) return from
    const next = startOfDay(addDays(day, 1), timeZone)
    const tier = tierOf(offset)
    if (tier) {
      const at = Math.max(from, fetchedAt + tier.targetMs)
      if (at < next) return at
    }
    from = next
    day = addDays(day, 1)
  }
}

/**
 * How long before today's answer goes stale it is sent. The answer is
 * stamped when it arrives, so the lead covers, at worst, what lies between
 * the due time and the stamp: the ranking that lists the day (its cadence),
 * a place in the window (the key in full use frees one every minute ÷ usable
 * rate) and the partner's answer (at most the client's timeout; a later one
 * is a failure). Derived, not tuned: a key half as fast waits twice as long
 * for its place. Each second of lead costs today one request per
 * (target − lead), about 0.1 % of today's requests.
 */
export function todayLeadMs(o: { rankEveryMs: number; perMinute: number; answerTimeoutMs: number }): number {
  return o.rankEveryMs + MINUTE / o.perMinute + o.answerTimeoutMs
}

/** The tier a planned pair is served in: the one it is in when it goes stale (or now, when it already is). */
export function dueTier(date: IsoDate, timeZone: string, dueAt: number, now: number): Tier | undefined {
  return tierOf(daysBetween(localDate(Math.max(dueAt, now), timeZone), date))
}

/** Re-checks of a day with nothing on sale: timed (never sent before due), then served in a slower tier (`servedTier`). */
export const RECHECK_REASONS: readonly DueReason[] = ['empty', 'closed']
export const isRecheck = (r: DueReason) => RECHECK_REASONS.includes(r)

/**
 * The tier whose turns a pair takes. Planned pairs: `dueTier`; today's:
 * today. A re-check is served in the tier whose target is its interval (the
 * next slower tier; a weekday known closed two slower), after the tiers
 * before it, as that tier's own days are: a day with nothing on sale is
 * worth no more than a day of the tier its re-check interval comes from, so
 * where the key is short it waits behind the days people can buy. A backoff,
 * a partner's reset or today's cutoff: the tier the day is in now.
 */
export function servedTier(p: { reason: DueReason; date: IsoDate; timeZone: string; nextDueAt: number }, now: number): Tier | undefined {
  if (p.reason === 'today') return TIERS[0]
  if (isPlanned(p.reason)) return dueTier(p.date, p.timeZone, p.nextDueAt, now)
  const tier = tierOf(daysBetween(localDate(now, p.timeZone), p.date))
  if (!tier || !isRecheck(p.reason)) return tier
  return slower(tier, p.reason === 'closed' ? 2 : 1)
}

/** The tier `steps` slower than `tier` (the slowest stays itself). */
function slower(tier: Tier, steps: number): Tier {
  return TIERS[Math.min(TIERS.length - 1, TIERS.indexOf(tier) + steps)]!
}

export type Outcome = 'ok' | 'empty' | 'invalid' | 'error' | 'rate_limited'

export interface DayAfterFetch {
  date: IsoDate
  timeZone: string
  outcome: Outcome
  consecutiveFailures: number
  /** For ok/empty: the answer's latest slot start ("HH:mm"), if any. */
  lastSlotStart: string | null
  /** The product's weekday pattern says this weekday is closed. */
  weekdayKnownClosed: boolean
  /** For rate_limited: when the partner allows requests again. */
  retryAt?: number
  /** How long before its staleness today's day is sent (todayLeadMs). */
  todayLeadMs: number
}

export interface NextDue {
  at: number
  reason: DueReason
}

/**
 * After a fetch at `now` that ended in `d.outcome`:
 * - with slots: when the answer goes stale (`staleAt`), planned; a day
 *   served as today (today, or tomorrow whose answer lasts until midnight)
 *   is timed instead: a lead before it goes stale, since the answer is
 *   stamped when it arrives, or for tomorrow from a target before midnight,
 *   to be fresh there; after today's last slot has started, never again today;
 * - with nothing on sale: re-checked at the next slower tier's target (a
 *   closed period rarely reopens within the tier's own period, and a missed
 *   reopening costs a sale shown unavailable, never one sold twice), and a
 *   weekday the product is known to close on two tiers slower; once due,
 *   served in that slower tier (`servedTier`);
 * - failed: retried after a doubling backoff, at most the tier's target;
 *   rate limited: at the partner's reset.
 */
export function nextDue(d: DayAfterFetch, now: number): NextDue {
  const today = localDate(now, d.timeZone)
  const offset = daysBetween(today, d.date)
  const tier = tierOf(offset)
  if (!tier) return { at: staleAt(now, d.date, d.timeZone), reason: 'tier' }
  switch (d.outcome) {
    case 'rate_limited':
      return { at: Math.max(now, d.retryAt ?? now + MINUTE), reason: 'rate_limited' }
    case 'error':
    case 'invalid':
      return { at: now + Math.min(tier.targetMs, FAILURE_BACKOFF_MS * 2 ** Math.min(d.consecutiveFailures - 1, 16)), reason: 'backoff' }
    case 'empty': {
      const at = now + slower(tier, d.weekdayKnownClosed ? 2 : 1).targetMs
      return withCutoff(d, offset, { at, reason: d.weekdayKnownClosed ? 'closed' : 'empty' })
    }
    case 'ok': {
      const stale = staleAt(now, d.date, d.timeZone)
      const [todayTier] = TIERS
      if (dueTier(d.date, d.timeZone, stale, now) !== todayTier) return { at: stale, reason: 'tier' }
      // Entering today at a midnight, the day must be fetched in the
      // target before it to be fresh there; within today, at the lead.
      const enters = stale === startOfDay(d.date, d.timeZone) && offset > 0
      return withCutoff(d, offset, { at: enters ? stale - todayTier.targetMs + d.todayLeadMs : stale - d.todayLeadMs, reason: 'today' })
    }
  }
}

/** Today's day whose next due time falls after its last slot starts: nothing of it is worth a request after. */
function withCutoff(d: DayAfterFetch, offset: number, due: NextDue): NextDue {
  if (offset !== 0) return due
  const cutoff = cutoffAt(d.date, d.lastSlotStart, d.timeZone)
  return cutoff !== undefined && due.at >= cutoff ? { at: startOfDay(addDays(d.date, 1), d.timeZone), reason: 'cutoff' } : due
}

/** Per product and weekday: fetched days with slots vs. empty, within the horizon. */
export interface WeekdayStats {
  open: number
  empty: number
}

/** A weekday is known closed once at least two fetched days of it were empty and none had slots, within the horizon. */
export function isWeekdayClosed(stats: WeekdayStats | undefined): boolean {
  return !!stats && stats.open === 0 && stats.empty >= 2
}
