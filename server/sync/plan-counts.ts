import { zonedTimeToInstant } from '../calendar/days.ts'
import { HORIZON_DAYS } from '../calendar/horizon.ts'
import { Prisma, type Db } from '../db/client.ts'
import { productsTodayCte, reasonsSql } from './due.ts'
import { LIVE_ACTIVE_MS, laneReservePerMinute } from './lane.ts'
import { PLANNED_REASONS, RECHECK_REASONS, servedTier, type DueReason } from './policy/deadline.ts'
import { byBoundary, computePlan, SLICE_MS, SLICES, type Plan, type PlanInput, type PlannedTier, type Rechecks } from './policy/plan.ts'

/**
 * What the plan (policy/plan.ts) counts, in one statement grouped so its
 * size follows zones × dates × slices, not products: per product time zone
 * and date of the horizon, the days whose stored answer has slots (or that
 * were never fetched), by the slice boundary at which each goes stale, and
 * for today and tomorrow by the start of their last slot. A failing day
 * counts as stale; one served as today (timed) as fresh; a re-check of a day
 * with nothing on sale, by the boundary it is due at, in the tier it is
 * served in.
 */
export async function planCounts(db: Db, now: number, perMinute: number): Promise<PlanInput> {
  const at = new Date(now)
  const planned = Prisma.raw(reasonsSql(PLANNED_REASONS))
  const recheck = Prisma.raw(reasonsSql(RECHECK_REASONS))
  const rows = await db.$queryRaw<{ time_zone: string; date: string; b: number; last_slot: string | null; recheck: DueReason | null; n: number }[]>`
    WITH n AS (SELECT ${at}::timestamptz AS now), ${Prisma.raw(productsTodayCte('$1::timestamptz', { syncedOnly: true }))}
    SELECT p.time_zone, f.date::text AS date,
           CASE WHEN f.last_fetched_at IS NULL THEN 0
                -- served as today (tomorrow's answer lasting until its midnight): fresh for the planned tiers
                WHEN f.due_reason = 'today' THEN ${SLICES + 1}
                WHEN f.due_reason NOT IN (${planned}, ${recheck}) THEN 0
                ELSE LEAST(${SLICES + 1}, GREATEST(0, ceil(extract(epoch FROM f.next_due_at - ${at}::timestamptz) * 1000 / ${SLICE_MS})))::int END AS b,
           CASE WHEN f.date <= p.today + 1 THEN f.last_slot_start END AS last_slot,
           CASE WHEN f.slot_count = 0 AND f.due_reason IN (${recheck}) THEN f.due_reason END AS recheck,
           count(*)::int AS n
    FROM day_fetch_state f JOIN p ON p.id = f.product_id
    WHERE f.date BETWEEN p.today AND p.today + ${HORIZON_DAYS - 1}::int
      AND (f.slot_count > 0 OR f.last_fetched_at IS NULL OR f.due_reason IN (${recheck}))
    GROUP BY 1, 2, 3, 4, 5`
  const zones = new Map<string, Map<string, { open: number; stale: { at: number; count: number }[]; ended: { at: number; count: number }[] }>>()
  const rechecks = new Map<string, Partial<Record<PlannedTier, { at: number; count: number }[]>>>()
  for (const r of rows) {
    if (r.recheck) {
      // A re-check is due at its boundary, in the tier it is served in now
      // (always a planned tier: one slower than the day's own). One due past
      // a midnight may be served a tier faster by then; the plan is made again
      // every minute, so it is counted there once that midnight has passed.
      const tier = servedTier({ reason: r.recheck, date: r.date, timeZone: r.time_zone, nextDueAt: now }, now)?.name as PlannedTier | undefined
      if (!tier) continue
      const z = rechecks.get(r.time_zone) ?? rechecks.set(r.time_zone, {}).get(r.time_zone)!
      const due = z[tier] ?? []
      due.push({ at: now + r.b * SLICE_MS, count: r.n })
      z[tier] = due
      continue
    }
    const dates = zones.get(r.time_zone) ?? zones.set(r.time_zone, new Map()).get(r.time_zone)!
    const d = dates.get(r.date) ?? dates.set(r.date, { open: 0, stale: [], ended: [] }).get(r.date)!
    d.open += r.n
    // Bucket b is stale by boundary b: byBoundary maps an instant back to it.
    d.stale.push({ at: now + r.b * SLICE_MS, count: r.n })
    if (r.last_slot) d.ended.push({ at: zonedTimeToInstant(r.date, r.last_slot, r.time_zone), count: r.n })
  }
  return {
    now,
    perMinute,
    zones: [...new Set([...zones.keys(), ...rechecks.keys()])].map((timeZone) => ({
      timeZone,
      days: [...(zones.get(timeZone) ?? [])].map(([date, d]) => ({
        date,
        open: d.open,
        staleBy: byBoundary(now, d.stale),
        endedBy: d.ended.length ? byBoundary(now, d.ended) : undefined,
      })),
      rechecks: Object.fromEntries(Object.entries(rechecks.get(timeZone) ?? {}).map(([t, due]) => [t, byBoundary(now, due)])) as Rechecks,
    })),
  }
}

/** How far back the live lane's recent rate is read: the span a live send keeps the lane active (lane.ts), the plan's slice, so the plan follows a change of rate at its next slice. */
export const LIVE_RATE_SPAN_MS = LIVE_ACTIVE_MS

/** The live lane as the plan counts it (lane.ts laneReservePerMinute); absent: no lane. */
export interface LiveLaneInput {
  limit: number
  share: number
  windowMs: number
}

/** The plan at `now` from the database: the horizon's counts, a 429's halt in force, and what the live lane is expected to take. */
export async function planFromDatabase(db: Db, now: number, perMinute: number, lane?: LiveLaneInput): Promise<Plan> {
  const [counts, control, recentLive] = await Promise.all([
    planCounts(db, now, perMinute),
    db.syncControl.findUnique({ where: { id: 1 }, select: { haltedUntil: true } }),
    lane ? db.partnerRequest.count({ where: { live: true, sentAt: { gt: new Date(now - LIVE_RATE_SPAN_MS), lte: new Date(now) } } }) : 0,
  ])
  const livePerMinute = lane ? laneReservePerMinute({ ...lane, recentLive, spanMs: LIVE_RATE_SPAN_MS }) : 0
  return computePlan({ ...counts, livePerMinute, haltedUntil: control?.haltedUntil?.getTime() ?? null })
}
