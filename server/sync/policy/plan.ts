import { addDays, daysBetween, localDate, startOfDay, type IsoDate } from '../../calendar/days.ts'
import { MINUTE, TIERS, type TierName } from '../tiers.ts'

/**
 * The capacity plan: for the next day, what share of the partner budget
 * each tier gets in each time slice. Pure: computed from counts of the
 * catalogue (per product time zone and date: open days and when their
 * answers go stale; today's and tomorrow's last slots) and the budget.
 *
 * The model is the one the benchmark's bound is built on (bench/best-plan.ts):
 * a tier keeps a day fresh at an instant only with a request for it within
 * its target before; the tiers are served in order, today first. Today is
 * charged what keeping its open days fresh until their last slot takes (one
 * request per target each; in the target before a zone's midnight, that
 * zone's tomorrow too). Each later tier then covers, at every slice
 * boundary, its open days whose stored answers will be stale there, with
 * requests in the slices of its target before that boundary, taking the
 * latest slices the tiers before it left: the later a request, the longer
 * it lasts into what follows. A due re-check of a day with nothing on sale
 * counts as a stale day of the tier it is served in. Where the budget ahead
 * is taken (the hours after a midnight, when today's open days ask for most
 * of the key), the cover lands before it: tomorrow's days 1–7 are fetched
 * late in the evening, and the days 8–30 that go stale in those hours in
 * the afternoon.
 * Nothing in the plan names those hours; they are where the budget is.
 */

/** Slice length: a request lands at most this much before the instant it covers, ~2 % of the shortest planned target (4 h). */
export const SLICE_MS = 5 * MINUTE
/** Plan length: the longest business target (days 8–30's 24 h), so every request that can cover a day in the plan is in it. */
export const PLAN_MS = 24 * 60 * MINUTE
export const SLICES = PLAN_MS / SLICE_MS

/** The planned tiers: today is sent when due, at the share the plan reserves for it. */
export const PLANNED_TIERS = ['week', 'month', 'horizon'] as const satisfies readonly TierName[]
export type PlannedTier = (typeof PLANNED_TIERS)[number]

/** One date of one zone, as the plan counts it. */
export interface DayCounts {
  date: IsoDate
  /** Days of this date whose stored answer has slots, or never fetched: what the tiers keep fresh. */
  open: number
  /** Of those, how many are stale at each slice boundary 0..SLICES (`staleBy`; never fetched: stale from 0). */
  staleBy: ArrayLike<number>
  /** Today and tomorrow: how many of them have their last slot started by each boundary (unknown: none). */
  endedBy?: ArrayLike<number>
}

export interface PlanInput {
  now: number
  /** Requests per minute the partner budget allows (the budget's usable rate). */
  perMinute: number
  /**
   * Of those, what the live lane is expected to take a minute (sync/lane.ts
   * laneReservePerMinute: the recent live rate and the place kept for the
   * next check, at most the lane's share). Not the whole share: what the
   * lane leaves unused is sent as scheduled work. Default 0.
   */
  livePerMinute?: number
  /** A partner's 429 halt: nothing can be sent before this instant. */
  haltedUntil?: number | null
  zones: readonly { timeZone: string; days: readonly DayCounts[]; rechecks?: Rechecks }[]
}

/**
 * Re-checks of days with nothing on sale, per tier they are served in
 * (deadline.ts `servedTier`): how many are due by each slice boundary
 * 0..SLICES (`byBoundary`). Each asks that tier for one request after it is
 * due, as a stale day of the tier does.
 */
export type Rechecks = Partial<Record<PlannedTier, ArrayLike<number>>>

export interface Plan {
  start: number
  /** Requests per slice today's days ask for. */
  today: Float64Array
  /** Requests per slice planned for each later tier. */
  tiers: Record<PlannedTier, Float64Array>
  /** Days each tier counts at each slice boundary that the plan cannot cover (stale there whatever is sent). */
  uncovered: Record<PlannedTier, Float64Array>
  capacity: number
}

/** The boundary index (0..SLICES) at or after instant `at`, for a plan starting at `start`: what `staleBy` counts from. */
export function boundaryOf(start: number, at: number): number {
  return Math.min(SLICES, Math.max(0, Math.ceil((at - start) / SLICE_MS)))
}

/** Cumulative counts per boundary from instants (with counts): the form `staleBy` and `endedBy` take. Instants after the plan count nowhere. */
export function byBoundary(start: number, instants: Iterable<{ at: number; count: number }>): Float64Array {
  const out = new Float64Array(SLICES + 1)
  for (const { at, count } of instants) {
    if (at > start + PLAN_MS) continue
    const b = boundaryOf(start, at)
    out[b] = out[b]! + count
  }
  for (let s = 1; s <= SLICES; s++) out[s] = out[s]! + out[s - 1]!
  return out
}

export function computePlan(input: PlanInput): Plan {
  const { now } = input
  const [todayTier] = TIERS
  const capacity = Math.max(0, input.perMinute - (input.livePerMinute ?? 0)) * (SLICE_MS / MINUTE)
  const boundary = (s: number) => now + s * SLICE_MS
  // Per zone: its dates by offset from its date at the plan's start, and that offset at each boundary (it steps once a day).
  const zones = input.zones.map((z) => {
    const base = localDate(now, z.timeZone)
    const byOffset: (DayCounts | undefined)[] = []
    for (const d of z.days) {
      const off = daysBetween(base, d.date)
      if (off >= 0) byOffset[off] = d
    }
    const shift = Int32Array.from({ length: SLICES + 1 }, (_, s) => daysBetween(base, localDate(boundary(s), z.timeZone)))
    const midnight = startOfDay(addDays(base, 1), z.timeZone)
    return { byOffset, shift, midnight, rechecks: z.rechecks }
  })

  // Today's need per slice: its open days before their last slot, one request per target each.
  const today = new Float64Array(SLICES)
  for (const z of zones) {
    for (let k = 0; k < SLICES; k++) {
      const shift = z.shift[k]!
      const d = z.byOffset[shift]
      let n = d ? d.open - (d.endedBy?.[k] ?? 0) : 0
      // In the target before a midnight, tomorrow's open days must be fetched to be fresh at it.
      const t = boundary(k)
      if (shift === 0 && z.midnight - t <= todayTier.targetMs) n += z.byOffset[1]?.open ?? 0
      today[k] = today[k]! + (n * SLICE_MS) / todayTier.targetMs
    }
  }
  // What each slice can send: nothing while a halt lasts, the budget's rate after.
  const open = (k: number) => Math.min(1, Math.max(0, (boundary(k + 1) - (input.haltedUntil ?? 0)) / SLICE_MS))
  const left = Float64Array.from(today, (need, k) => Math.max(0, capacity * open(k) - need))

  const tiers = {} as Plan['tiers']
  const uncovered = {} as Plan['uncovered']
  for (const name of PLANNED_TIERS) {
    const tier = TIERS.find((t) => t.name === name)!
    const window = Math.min(SLICES, Math.round(tier.targetMs / SLICE_MS))
    const x = new Float64Array(SLICES)
    const short = new Float64Array(SLICES + 1)
    let have = 0 // x over [s − window, s)
    for (let s = 1; s <= SLICES; s++) {
      have += x[s - 1]!
      if (s - 1 - window >= 0) have -= x[s - 1 - window]!
      let need = 0
      for (const z of zones) {
        const shift = z.shift[s]!
        for (let off = tier.fromOffset; off <= tier.toOffset; off++) {
          const d = z.byOffset[off + shift]
          if (d) need += Math.min(d.open, d.staleBy[s] ?? d.open)
        }
        need += z.rechecks?.[name]?.[s] ?? 0
      }
      // Cover with what is planned in the target before, then with the latest slices left.
      let missing = need - have
      for (let k = s - 1; missing > 1e-9 && k >= Math.max(0, s - window); k--) {
        const take = Math.min(left[k]!, missing)
        if (take <= 0) continue
        x[k] = x[k]! + take
        left[k] = left[k]! - take
        have += take
        missing -= take
      }
      short[s] = Math.max(0, missing)
    }
    tiers[name] = x
    uncovered[name] = short
  }
  return { start: now, today, tiers, uncovered, capacity }
}

/** Requests of `tier` the plan places from its start until `t`. */
export function plannedBy(plan: Plan, tier: PlannedTier, t: number): number {
  const x = plan.tiers[tier]
  const at = Math.min(SLICES, Math.max(0, (t - plan.start) / SLICE_MS))
  const whole = Math.floor(at)
  let n = 0
  for (let k = 0; k < whole; k++) n += x[k]!
  return whole < SLICES ? n + x[whole]! * (at - whole) : n
}

/**
 * When the plan sends the `count` next requests of `tier`, after the `sent`
 * ones already sent since it was made (default: as many as it planned
 * before `now`): the n-th day of the tier in order of staleness has its turn
 * at the n-th instant. Behind the plan, turns fall before `now` (catch up);
 * ahead of it, later. Infinity beyond the plan.
 */
export function turnsAt(plan: Plan, tier: PlannedTier, now: number, count: number, sent = plannedBy(plan, tier, now)): number[] {
  const x = plan.tiers[tier]
  const out: number[] = []
  let target = sent
  let before = 0 // requests planned in the slices before k
  for (let k = 0; k < SLICES && out.length < count; k++) {
    const xk = x[k]!
    while (out.length < count && target < before + xk - 1e-9) {
      out.push(Math.max(now, plan.start + (k + (target - before) / xk) * SLICE_MS))
      target += 1
    }
    before += xk
  }
  while (out.length < count) out.push(Number.POSITIVE_INFINITY)
  return out
}
