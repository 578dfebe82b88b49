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
 * daily check it would cost as much as an open day of the 30-day tier, and
 * in an oversubscribed catalogue those requests come out of open days 8–30.
 */
export const FAR_CLOSED_RECHECK_MS = 72 * HOUR
/**
 * Today with nothing on sale (a closed period, not a known-closed weekday) is
 * re-checked at the 4 h standard of days 1–7, not every 15 min: such a day
 * rarely opens within the day, and in an oversubscribed catalogue checks at
 * today's pace would take their share from the hours when today's open days
 * already ask for nearly all of the key, and from what those hours leave for
 * days 1–7.
 */
export const EMPTY_TODAY_RECHECK_MS = 4 * HOUR
/**
 * Days 1–7 with nothing on sale (not a known-closed weekday) are re-checked
 * one tier down too, at the 24 h standard of days 8–30: a closed period or
 * withdrawn slots rarely come back within the day, and what a missed
 * reopening costs is a sale shown as unavailable, never one sold twice. The
 * dense catalogue has ~210 such days among days 1–7 at 450 products; at
 * their tier's 4 h they took ~1,260 requests a day, ~50 an hour of the
 * afternoon while thousands of open days 8–30 waited (sync-hourly.ts).
 */
export const EMPTY_WEEK_RECHECK_MS = 24 * HOUR
/** Failures retry sooner than the tier would, doubling from this, capped at the tier's target. */
export const FAILURE_BACKOFF_MS = 1 * MINUTE
/**
 * A never-fetched far day weighs like the 30-day tier: one request buys a day
 * `/dates` can show at all. Not like the 7-day tier: 450 such days enter the
 * horizon every midnight, when today's open days already ask for most of
 * the key, and at that weight they would push days 1–7 out.
 */
const NEVER_FETCHED_WEIGHT = TIERS[2].weight
/**
 * A day beyond day 7 last seen with nothing on sale weighs like days 31–59:
 * re-checking it buys a read of "closed", which rarely changes, while an
 * open day of days 8–30 buys slots people book; at a higher weight the
 * afternoon's requests would go to closed and empty days while open days
 * 8–30 wait for the evening (figures: bench/HISTORY.md, 8452efd).
 */
const EMPTY_FAR_WEIGHT = TIERS[3].weight
/**
 * Day 8 falling due (its 24 h) before tonight's sweep weighs like days
 * 31–59 too: the sweep fetches it again within hours as tomorrow's day 7,
 * so a fetch now buys those hours of one day 8, where the same request spent
 * on a day 8–30 brought forward ahead of the crunch (`CRUNCH_PULL`) keeps
 * that day fresh through the crunch's hours: one fetch of day 8 per
 * afternoon instead of two (figures: bench/HISTORY.md, 6d4798e).
 */
const SWEPT_SOON_WEIGHT = TIERS[3].weight
/**
 * When a crunch is ahead (`crunchAhead`), tomorrow's days 1–7 (today's
 * days 2–8) are refreshed in a sweep just before midnight, not at their
 * usual 4 h spread: from midnight until the first last slots (10:00–18:00)
 * today's open days can ask for nearly the whole key (one request per open
 * day each 15 min against 30 per 61 s), so days 1–7 live on what was fetched
 * just before. Fetched at 20:00 a day goes stale at
 * 00:00; fetched at 23:30, at 03:30. The later the sweep, the longer it
 * lasts into the crunch: its span is sized from the open days it has to
 * fetch (`sweepSpanMs`), at most a week period minus its lead (earlier, a
 * swept day would be stale by midnight). This is the span when the engine
 * has no counts.
 */
export const WEEK_SWEEP_MS = 2 * HOUR
/** At most: a day swept earlier would be due again before midnight. */
export const MAX_SWEEP_MS = TIERS[1].targetMs - TIERS[1].leadMs
/**
 * The share of the key the sweep gets while it runs: the rest goes to
 * today's last open products and to failures retried. Under it the sweep starts a
 * little early and ends before day 1's window, over it the last days of
 * the sweep compete with day 1's window and go after it.
 */
const SWEEP_SHARE = 0.95
/**
 * With a sweep ahead, a day 1–7 whose 4 h refresh would fall due in the hour
 * before the sweep opens waits for the sweep instead: fetched at 21:30 it
 * would be fetched again within the hour, so that request bought the sweep
 * an hour of freshness at most. Stale until swept, it goes first there (the
 * stale longest first, `rankDue`), so it waits minutes, not the hour. The
 * hour it frees goes to the open days 8–30 falling due that evening, which
 * would otherwise wait behind the sweep and stay stale through the crunch;
 * the cost is days 1–7 dipping that evening (figures: bench/HISTORY.md,
 * 8cddc0b).
 */
export const SWEEP_DEFER_MS = 1 * HOUR

/** The last instant a day 1–7 is refreshed on its chain before the sweep (`SWEEP_DEFER_MS`). */
export function chainEndsAt(sweepOpens: number): number {
  return sweepOpens - SWEEP_DEFER_MS
}

/** The counts the engine has of the catalogue (claims.ts crunchCounts) and the key's usable rate. */
export interface CrunchCounts {
  /** Open days tomorrow. */
  tomorrowOpen: number
  /** Open days on days 2–8: tomorrow's days 1–7. */
  weekOpen: number
  usablePerMinute: number
}

/**
 * How long before midnight the sweep opens, so that it ends when day 1's
 * own window opens (15 min before midnight, less today's lead): the open
 * days 2–8 at the sweep's share of the key, less what day 1's window leaves
 * of it. Rounded up to a minute
 * so the due time it sets does not move with every re-count.
 */
export function sweepSpanMs(c: CrunchCounts): number {
  const [today] = TIERS
  const dayOneWindow = today.targetMs - today.leadMs
  const leftInDayOneWindow = Math.max(0, c.usablePerMinute - c.tomorrowOpen / (today.targetMs / MINUTE)) * (dayOneWindow / MINUTE)
  const beforeDayOne = Math.max(0, c.weekOpen - leftInDayOneWindow) / (c.usablePerMinute * SWEEP_SHARE)
  return Math.min(MAX_SWEEP_MS, Math.ceil(dayOneWindow / MINUTE + beforeDayOne) * MINUTE)
}

/**
 * With a crunch ahead, the days 8–30 of tomorrow that would fall due from an
 * hour before the sweep until the crunch ends are brought forward to the
 * afternoon before it (claims.ts `pullAheadOfCrunch`): due at 02:00 a day
 * waits, stale, until today's open days leave the key (their last slots,
 * from late morning on), and due at 22:30 it waits behind the
 * sweep, which outranks it, so just as long. The afternoon before has budget
 * to spare. Fetched from noon, a day is fresh for 24 h, past the crunch. The
 * crunch is taken to end `crunchSpanMs` after midnight.
 *
 * Each keeps its place: the span from `beforeSweepMs` ahead of the sweep to
 * the crunch's end is laid over noon → that instant (`pullPlan`), between
 * the days whose due time passes in the afternoon anyway, so they all rank
 * in the order of their due times, and with it the order of what a fetch
 * buys (a day due at 00:30 would be stale for the whole crunch, one due at
 * 11:00 for an hour of it): when the evening cannot fetch them all, the ones
 * left are those the crunch costs least.
 * Pulling only what falls due after midnight would leave the days 8–30 due
 * in the evening behind the sweep, stale through the crunch, while the hours
 * before the sweep spend requests on days 31–59 and closed days for want of
 * anything due (figures: bench/HISTORY.md, 8cddc0b).
 */
export const CRUNCH_PULL = {
  /** Local time of day from which days are pulled (and before which their last fetch must be). */
  fromMs: 12 * HOUR,
  /** Days falling due before this long after the next midnight are pulled. */
  crunchSpanMs: 12 * HOUR,
  /**
   * Days falling due from this long before the sweep opens are pulled, and the pulled are due by then: the hour days 1–7
   * leave to the sweep (`SWEEP_DEFER_MS`), so what they free there goes to the pulled days.
   */
  beforeSweepMs: SWEEP_DEFER_MS,
  /** Today's offsets of tomorrow's days 8–30 (day 8 of today is swept with days 1–7). */
  fromOffset: TIERS[2].fromOffset + 1,
  toOffset: TIERS[2].toOffset + 1,
} as const

/**
 * Where the pull lands (ms after today's local midnight: pulled days are due
 * by then, and days due from then on are pulled) and the share of its
 * distance from that instant a pulled day's due time keeps: the span from
 * there to the crunch's end maps onto noon → there.
 */
export interface PullPlan {
  landsByMs: number
  scale: number
}

export function pullPlan(ctx: PlanContext): PullPlan {
  const landsByMs = Math.max(CRUNCH_PULL.fromMs, 24 * HOUR - (ctx.sweepMs ?? WEEK_SWEEP_MS) - CRUNCH_PULL.beforeSweepMs)
  return { landsByMs, scale: (landsByMs - CRUNCH_PULL.fromMs) / (24 * HOUR + CRUNCH_PULL.crunchSpanMs - landsByMs) }
}

/** What the engine tells the planner about the whole catalogue. */
export interface PlanContext {
  /** Sweep tomorrow's days 1–7 before midnight (a crunch is ahead). */
  sweep: boolean
  /** How long before midnight the sweep opens (`sweepSpanMs`); `WEEK_SWEEP_MS` when not given. */
  sweepMs?: number
}

const NO_SWEEP: PlanContext = { sweep: false }

/** The context the engine plans with, from its counts: a sweep only with a crunch ahead, sized to it. */
export function planContext(c: CrunchCounts): PlanContext {
  return crunchAhead(c) ? { sweep: true, sweepMs: sweepSpanMs(c) } : NO_SWEEP
}

/**
 * A crunch is ahead when what tomorrow's open days leave of the key from
 * midnight (each asks for a request every 15 min until its last slot) cannot
 * refresh tomorrow's open days 1–7 within their 4 h. Only then does the
 * sweep pay: without a crunch it bunches days 1–7 into one 2 h span, due
 * again all together after midnight (sample catalogue: days 1–7 fell to
 * 98.8 % around 03:00 with the sweep on). Dense catalogue at 450 products:
 * ~400 open days ask 26.7 of 29.5 usable a minute, leaving ~670 requests
 * in 4 h for ~2,800 days (a crunch); sample: ~190 ask 12.9, leaving ~4,000
 * for ~1,400 (none).
 */
export function crunchAhead(c: CrunchCounts): boolean {
  const [today, week] = TIERS
  const left = c.usablePerMinute - c.tomorrowOpen / (today.targetMs / MINUTE)
  return left * (week.targetMs / MINUTE) < c.weekOpen
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
}

/** Start of the day after `date` in its zone: when a day leaves the horizon's "today". */
function endOfDay(date: IsoDate, timeZone: string): number {
  return startOfDay(addDays(date, 1), timeZone)
}

interface TierChange {
  enters: number
  windowOpens: number
  tier: Tier
  /** The window is the sweep before midnight. */
  sweep: boolean
}

/**
 * When `date` enters the next more frequent tier (if that is still ahead),
 * that tier, and when its window opens: from then on a fetch must already
 * meet that tier's standard when it enters. With a crunch ahead, tomorrow's
 * days 1–7 have one window, the sweep before midnight (`sweepSpanMs`), whichever tier they
 * are in today.
 */
function nextTierChange(date: IsoDate, timeZone: string, now: number, today: IsoDate, ctx: PlanContext): TierChange | undefined {
  const offset = daysBetween(today, date)
  const current = tierOf(offset)
  if (!current) return undefined
  const [, week] = TIERS
  if (ctx.sweep && offset - 1 >= week.fromOffset && offset - 1 <= week.toOffset) {
    const midnight = endOfDay(today, timeZone)
    return { enters: midnight, windowOpens: midnight - (ctx.sweepMs ?? WEEK_SWEEP_MS), tier: week, sweep: true }
  }
  const idx = TIERS.indexOf(current)
  if (idx <= 0) return undefined
  // A day moves up one tier when its offset falls below the current tier's first offset.
  const enters = startOfDay(addDays(date, -(current.fromOffset - 1)), timeZone)
  if (enters <= now) return undefined
  const tier = TIERS[idx - 1]!
  return { enters, windowOpens: enters - (tier.targetMs - tier.leadMs), tier, sweep: false }
}

/**
 * When a day is due again after a fetch at `now` that ended in `d.outcome`.
 */
export function nextDueAfterFetch(d: DayAfterFetch, now: number, today: IsoDate, ctx: PlanContext = NO_SWEEP): number {
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
      // empty day (closed period, slots withdrawn) is re-checked one tier
      // down from today and days 1–7, and keeps its tier beyond.
      if (d.weekdayKnownClosed) interval = Math.max(tier.targetMs, offset <= 7 ? CLOSED_RECHECK_MS : FAR_CLOSED_RECHECK_MS) - tier.leadMs
      else if (offset === 0) interval = EMPTY_TODAY_RECHECK_MS - tier.leadMs
      else if (offset <= TIERS[1].toOffset) interval = EMPTY_WEEK_RECHECK_MS - tier.leadMs
      break
  }
  let due = now + interval
  // Entering a more frequent tier (at a midnight), a day must already be
  // fresh by that tier's standard: fetch it in the window just before, not
  // all at once after midnight, and not earlier than the window either (it
  // would be stale again sooner after midnight). A known-closed weekday is exempt.
  // A day seen empty is not swept either: what the sweep buys is slots
  // people read, and an empty day rarely changes.
  const promote = nextTierChange(d.date, d.timeZone, now, today, ctx)
  const exempt = d.outcome === 'empty' && (d.weekdayKnownClosed || promote?.sweep === true)
  if (promote && !exempt) {
    due = Math.min(due, now < promote.windowOpens ? promote.windowOpens : now + promote.tier.targetMs - promote.tier.leadMs)
    if (promote.sweep && now < promote.windowOpens && due >= chainEndsAt(promote.windowOpens)) due = promote.windowOpens
    // Swept: due again from midnight in the order swept. Until the first
    // swept days near their 4 h nothing of days 1–7 is due, and what the
    // crunch leaves went to days 8–30; spent on the days swept first, which go
    // stale first, it keeps them fresh into the crunch, days 1–7 before
    // days 8–30 as the tiers rank.
    if (promote.sweep && now >= promote.windowOpens) due = Math.min(due, promote.enters + (now - promote.windowOpens))
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
  /** Not due: claimed only if nobody fetched it since it was listed (spare budget, rephase.ts). */
  early?: boolean
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
export function rankDue(candidates: readonly Candidate[], now: number, todayOf: (tz: string) => IsoDate, ctx: PlanContext = NO_SWEEP): Ranked[] {
  const out: Ranked[] = []
  for (const c of candidates) {
    const today = todayOf(c.timeZone)
    const offset = daysBetween(today, c.date)
    const current = tierOf(offset)
    if (!current) continue
    if (!isDue(c, offset, now)) continue
    // In its window before a midnight, a day is due for the tier it is about
    // to enter, and ranks as that tier: day 1 before today's, tomorrow's
    // days 1–7 (day 8 included) as days 1–7.
    const promote = nextTierChange(c.date, c.timeZone, now, today, ctx)
    const tier = promote && now >= promote.windowOpens && promote.enters > now ? promote.tier : current
    if (tier.name === 'today') {
      out.push({ ...c, offset, tier, score: TODAY_CLASS + Math.max(0, now - Math.min(c.nextDueAt, c.forcedAt ?? Infinity)) })
      continue
    }
    if (c.forcedAt !== null) {
      out.push({ ...c, offset, tier, score: RUN_CLASS - c.forcedAt - offset / 100 })
      continue
    }
    const lateness = (now - c.nextDueAt) / tier.targetMs
    const weight =
      c.lastFetchedAt === null
        ? Math.max(tier.weight, NEVER_FETCHED_WEIGHT)
        : c.lastSlotStart === null && offset > TIERS[1].toOffset
          ? EMPTY_FAR_WEIGHT
          : offset === TIERS[1].toOffset + 1 && promote?.sweep && now < promote.windowOpens
            ? SWEPT_SOON_WEIGHT
            : tier.weight
    out.push({ ...c, offset, tier, score: (lateness + 1) * weight })
  }
  // Equally due, the one stale longest (for the tier it is in now) first: the
  // sweep, where all are due at its opening, then fetches first the days 2–7
  // that went stale waiting for it, and day 8 by its 24 h.
  return out.sort(
    (a, b) => b.score - a.score || a.nextDueAt - b.nextDueAt || staleSince(a) - staleSince(b) || a.productId - b.productId || (a.date < b.date ? -1 : 1),
  )
}

/** When a ranked day's stored answer went (or goes) stale for the tier its offset is in; never fetched, long ago. */
function staleSince(r: Ranked): number {
  return r.lastFetchedAt === null ? Number.MIN_SAFE_INTEGER : r.lastFetchedAt + (tierOf(r.offset)?.targetMs ?? 0)
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
