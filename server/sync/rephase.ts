import { addDays, daysBetween, startOfDay, type IsoDate } from '../calendar/days.ts'
import { chainEndsAt, CRUNCH_PULL, WEEK_SWEEP_MS, type Candidate, type PlanContext, type Ranked } from './planner.ts'
import { TIERS } from './tiers.ts'

/**
 * Moving a fetch of days 1–7 out of the afternoon before a crunch into the
 * morning, at no cost in requests.
 *
 * With a crunch ahead, tomorrow's days 1–7 (today's days 2–8) are all
 * fetched again in the sweep before midnight (planner.ts), so what a day
 * costs until then is its chain of 4 h refreshes from its next due time to
 * the sweep: ceil((chain end − due) / period) requests, the chain ending
 * an hour before the sweep opens (planner.ts `SWEEP_DEFER_MS`). Fetched earlier, at any
 * instant whose chain reaches the sweep in as many steps, it costs the
 * same: the chain only shifts earlier. If that shift moves one of its
 * refreshes from after noon to before it, the afternoon, where the pulled
 * days 8–30 wait (`CRUNCH_PULL`), has one more request for them; the
 * morning budget it takes would have gone to days 8–30, which go later
 * instead, so they gain timing, not requests (figures: bench/HISTORY.md,
 * d6416da).
 *
 * Such fetches rank below every due day of days 1–7 (`REPHASE_SCORE`), so a
 * crunch morning, where days 1–7 are starved, never makes one.
 */

const [, WEEK] = TIERS
/** A day 1–7's refresh period (planner.ts: its target less its lead). */
const PERIOD = WEEK.targetMs - WEEK.leadMs

/**
 * Today's offsets that the sweep fetches on a 4 h chain: days 2–7. Day 1 has
 * its own window (it becomes today), day 8 a 24 h period.
 */
export const REPHASE_OFFSETS = { from: WEEK.fromOffset + 1, to: WEEK.toOffset } as const

/**
 * Under any due day of days 1–7 (a weight of 100 times lateness + 1, at
 * least 100), over days 8–30 unless ~19 days late (weight 5): the request
 * it frees in the afternoon goes to a day 8–30 then, and one it displaces in
 * the morning goes later, not out.
 */
export const REPHASE_SCORE = WEEK.weight - 1

/**
 * The due times [from, to) of today's days 2–7 (in `timeZone`) that are
 * worth fetching at `now` though not due: their chain to the sweep has as
 * many refreshes from now as from their due time (due before `to`), and one
 * of them moves from after noon to before it (due from `from`). Undefined
 * without a crunch ahead, from noon, or when no due time qualifies.
 */
export interface RephaseWindow {
  from: number
  to: number
}

export function rephaseWindow(now: number, today: IsoDate, timeZone: string, ctx: PlanContext): RephaseWindow | undefined {
  if (!ctx.sweep) return undefined
  const noon = startOfDay(today, timeZone) + CRUNCH_PULL.fromMs
  if (now >= noon) return undefined
  // The chain's refreshes stop short of the sweep (planner.ts `SWEEP_DEFER_MS`).
  const chainEnd = chainEndsAt(startOfDay(addDays(today, 1), timeZone) - (ctx.sweepMs ?? WEEK_SWEEP_MS))
  // Refreshes before the sweep from now: now, now + P, … < chainEnd.
  const steps = Math.ceil((chainEnd - now) / PERIOD)
  if (steps < 1) return undefined
  // A day due before `to` needs as many; one due at `to` one fewer.
  const to = chainEnd - (steps - 1) * PERIOD
  // The last refresh before noon from now is now + kP; due from noon − kP, that one falls after noon.
  const k = Math.ceil((noon - now) / PERIOD) - 1
  const from = noon - k * PERIOD
  return from < to ? { from, to } : undefined
}

/** `rephaseWindow` for each of `zones` that has one at `now`: what claims.ts loadRephase lists and `rankRephase` keeps. */
export function rephaseWindows(now: number, zones: readonly string[], todayOf: (tz: string) => IsoDate, ctx: PlanContext): Map<string, RephaseWindow> {
  const out = new Map<string, RephaseWindow>()
  for (const tz of zones) {
    const w = rephaseWindow(now, todayOf(tz), tz, ctx)
    if (w) out.set(tz, w)
  }
  return out
}

/** The candidates (not due, listed by claims.ts loadRephase) worth fetching now, ranked under due days 1–7. */
export function rankRephase(candidates: readonly Candidate[], todayOf: (tz: string) => IsoDate, windows: ReadonlyMap<string, RephaseWindow>): Ranked[] {
  const out: Ranked[] = []
  for (const c of candidates) {
    if (c.forcedAt !== null || c.lastSlotStart === null || c.lastFetchedAt === null) continue
    const offset = daysBetween(todayOf(c.timeZone), c.date)
    if (offset < REPHASE_OFFSETS.from || offset > REPHASE_OFFSETS.to) continue
    const w = windows.get(c.timeZone)
    if (!w || c.nextDueAt < w.from || c.nextDueAt >= w.to) continue
    out.push({ ...c, offset, tier: WEEK, score: REPHASE_SCORE, early: true })
  }
  return out.sort((a, b) => a.nextDueAt - b.nextDueAt || a.productId - b.productId || (a.date < b.date ? -1 : 1))
}

/** The due ranking with the rephase candidates placed where their score puts them (all share one score). */
export function withRephase(due: Ranked[], rephase: Ranked[]): Ranked[] {
  if (!rephase.length) return due
  const i = due.findIndex((r) => r.score < REPHASE_SCORE)
  return i < 0 ? [...due, ...rephase] : [...due.slice(0, i), ...rephase, ...due.slice(i)]
}
