import { zonedTimeToInstant } from '../calendar/days.ts'
import { HORIZON_DAYS } from '../calendar/horizon.ts'
import { Prisma, type Db } from '../db/client.ts'
import { productsTodayCte } from './due.ts'
import { LIVE_ACTIVE_MS, laneReservePerMinute } from './lane.ts'
import { PLANNED_REASONS } from './policy/deadline.ts'
import { byBoundary, computePlan, SLICE_MS, SLICES, type Plan, type PlanInput } from './policy/plan.ts'

/**
 * What the plan (policy/plan.ts) counts, in one statement grouped so its
 * size follows zones × dates × slices, not products: per product time zone
 * and date of the horizon, the days whose stored answer has slots (or that
 * were never fetched), by the slice boundary at which each goes stale, and
 * for today and tomorrow by the start of their last slot. A failing or
 * re-checked day counts as stale; one served as today (timed) as fresh.
 */
export async function planCounts(db: Db, now: number, perMinute: number): Promise<PlanInput> {
  const at = new Date(now)
  const planned = Prisma.raw(PLANNED_REASONS.map((r) => `'${r}'`).join(', '))
  const rows = await db.$queryRaw<{ time_zone: string; date: string; b: number; last_slot: string | null; n: number }[]>`
    WITH n AS (SELECT ${at}::timestamptz AS now), ${Prisma.raw(productsTodayCte('$1::timestamptz', { syncedOnly: true }))}
    SELECT p.time_zone, f.date::text AS date,
           CASE WHEN f.last_fetched_at IS NULL THEN 0
                -- served as today (tomorrow's answer lasting until its midnight): fresh for the planned tiers
                WHEN f.due_reason = 'today' THEN ${SLICES + 1}
                WHEN f.due_reason NOT IN (${planned}) THEN 0
                ELSE LEAST(${SLICES + 1}, GREATEST(0, ceil(extract(epoch FROM f.next_due_at - ${at}::timestamptz) * 1000 / ${SLICE_MS})))::int END AS b,
           CASE WHEN f.date <= p.today + 1 THEN f.last_slot_start END AS last_slot,
           count(*)::int AS n
    FROM day_fetch_state f JOIN p ON p.id = f.product_id
    WHERE f.date BETWEEN p.today AND p.today + ${HORIZON_DAYS - 1}::int AND (f.slot_count > 0 OR f.last_fetched_at IS NULL)
    GROUP BY 1, 2, 3, 4`
  const zones = new Map<string, Map<string, { open: number; stale: { at: number; count: number }[]; ended: { at: number; count: number }[] }>>()
  for (const r of rows) {
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
    zones: [...zones].map(([timeZone, dates]) => ({
      timeZone,
      days: [...dates].map(([date, d]) => ({
        date,
        open: d.open,
        staleBy: byBoundary(now, d.stale),
        endedBy: d.ended.length ? byBoundary(now, d.ended) : undefined,
      })),
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
