import { addDays, daysBetween, startOfDay, type IsoDate } from '../calendar/days.ts'
import { cutoffAt, isDue, type DueFacts } from './due.ts'
import { HOUR, MINUTE, TIERS, tierOf, type Tier } from './tiers.ts'

/**
 * When is a (product, date) due again, and which due pair goes first.
 * Pure: the engine feeds it rows and a clock reading.
 */

/** Learned-closed days are re-checked this often: rare, yet under the 36 h the oldest day may reach. */
export const CLOSED_RECHECK_MS = 24 * HOUR
/**
 * Beyond the 7-day tier a known-closed day is re-checked every 3 days: at a
 * daily check it cost as much as an open day of the 30-day tier, and in the
 * 450-product simulation those checks left the open days 8–30 20 % stale.
 */
export const FAR_CLOSED_RECHECK_MS = 72 * HOUR
/**
 * Today with nothing on sale (a closed period, not a known-closed weekday) is
 * re-checked hourly, not every 15 min: such a day rarely opens within the
 * day, and in the dense simulation these checks took 7 % of the key in the
 * hours when today's open days already ask for nearly all of it.
 */
export const EMPTY_TODAY_RECHECK_MS = 1 * HOUR
/** Failures retry sooner than the tier would, doubling from this, capped at the tier's target. */
export const FAILURE_BACKOFF_MS = 1 * MINUTE
/**
 * A never-fetched far day weighs like the 30-day tier: one request buys a day
 * `/dates` can show at all. Not like the 7-day tier: 450 such days enter the
 * horizon every midnight, when today's open days already ask for most of
 * the key, and at that weight they pushed days 1–7 out (dense simulation).
 */
const NEVER_FETCHED_WEIGHT = TIERS[2].weight

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
}

/** Start of the day after `date` in its zone: when a day leaves the horizon's "today". */
function endOfDay(date: IsoDate, timeZone: string): number {
  return startOfDay(addDays(date, 1), timeZone)
}

/** When `date` enters the next more frequent tier (if that is still ahead), and that tier. */
function nextTierChange(date: IsoDate, timeZone: string, now: number, today: IsoDate): { enters: number; tier: Tier } | undefined {
  const offset = daysBetween(today, date)
  const current = tierOf(offset)
  if (!current) return undefined
  const idx = TIERS.indexOf(current)
  if (idx <= 0) return undefined
  // A day moves up one tier when its offset falls below the current tier's first offset.
  const enters = startOfDay(addDays(date, -(current.fromOffset - 1)), timeZone)
  return enters > now ? { enters, tier: TIERS[idx - 1]! } : undefined
}

/**
 * When a day is due again after a fetch at `now` that ended in `d.outcome`.
 */
export function nextDueAfterFetch(d: DayAfterFetch, now: number, today: IsoDate): number {
  const offset = daysBetween(today, d.date)
  const tier = tierOf(offset)
  if (!tier) return now + CLOSED_RECHECK_MS // outside the horizon: not ours to refresh
  let interval: number = tier.targetMs - tier.leadMs
  switch (d.outcome) {
    case 'rate_limited':
      return Math.max(now, d.retryAt ?? now + MINUTE)
    case 'error':
    case 'invalid':
      interval = Math.min(tier.targetMs, FAILURE_BACKOFF_MS * 2 ** Math.min(d.consecutiveFailures - 1, 16))
      break
    case 'empty':
      // Closed weekday: expected to stay closed, check rarely. An unexpected
      // empty day (sold out, closed period) keeps its tier.
      if (d.weekdayKnownClosed) interval = Math.max(tier.targetMs, offset <= 7 ? CLOSED_RECHECK_MS : FAR_CLOSED_RECHECK_MS) - tier.leadMs
      else if (offset === 0) interval = EMPTY_TODAY_RECHECK_MS - tier.leadMs
      break
  }
  let due = now + interval
  // Entering a more frequent tier (at a midnight), a day must already be
  // fresh by that tier's standard: fetch it in the window just before, not
  // all at once after midnight. A known-closed weekday is exempt.
  const promote = nextTierChange(d.date, d.timeZone, now, today)
  if (promote && !(d.outcome === 'empty' && d.weekdayKnownClosed)) {
    const windowOpens = promote.enters - (promote.tier.targetMs - promote.tier.leadMs)
    due = Math.min(due, now < windowOpens ? windowOpens : now + promote.tier.targetMs - promote.tier.leadMs)
  }
  if (offset === 0 && (d.outcome === 'ok' || d.outcome === 'empty')) {
    const cutoff = cutoffAt(d.date, d.lastSlotStart, d.timeZone)
    if (cutoff !== undefined && due >= cutoff) due = endOfDay(d.date, d.timeZone)
  }
  return due
}

export interface Candidate extends DueFacts {
  productId: number
}

export interface Ranked extends Candidate {
  offset: number
  tier: Tier
  score: number
}

// Three classes, highest first, folded into one number so a plain sort orders them.
const TODAY_CLASS = 3e15
const RUN_CLASS = 2e15

/**
 * Orders due pairs. Today's due days always go first: the 15-minute tier is
 * what clients read most and it needs a fixed share of the budget. Then
 * "run now" requests (oldest request first, nearer days first), so a big run
 * drains at the rate today leaves. Then everything else by lateness relative
 * to its tier's target, times the tier's weight: near days win, and a far
 * day's score keeps growing while it waits, so it is served stale, not never.
 */
export function rankDue(candidates: readonly Candidate[], now: number, todayOf: (tz: string) => IsoDate): Ranked[] {
  const out: Ranked[] = []
  for (const c of candidates) {
    const offset = daysBetween(todayOf(c.timeZone), c.date)
    const tier = tierOf(offset)
    if (!tier) continue
    if (!isDue(c, offset, now)) continue
    if (tier.name === 'today') {
      out.push({ ...c, offset, tier, score: TODAY_CLASS + Math.max(0, now - Math.min(c.nextDueAt, c.forcedAt ?? Infinity)) })
      continue
    }
    if (c.forcedAt !== null) {
      out.push({ ...c, offset, tier, score: RUN_CLASS - c.forcedAt - offset / 100 })
      continue
    }
    const lateness = (now - c.nextDueAt) / tier.targetMs
    const weight = c.lastFetchedAt === null ? Math.max(tier.weight, NEVER_FETCHED_WEIGHT) : tier.weight
    out.push({ ...c, offset, tier, score: (lateness + 1) * weight })
  }
  return out.sort((a, b) => b.score - a.score || a.nextDueAt - b.nextDueAt || a.productId - b.productId || (a.date < b.date ? -1 : 1))
}

export interface WeekdayStats {
  open: number
  empty: number
}

/**
 * A weekday is known closed once at least two fetched days of it were empty
 * and none had slots, within the horizon.
 */
export function isWeekdayClosed(stats: WeekdayStats | undefined): boolean {
  return !!stats && stats.open === 0 && stats.empty >= 2
}
