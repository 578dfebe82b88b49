import { HORIZON_DAYS } from '../calendar/horizon.ts'
import type { PrismaClient } from '../db/client.ts'
import { dueSql, pastCutoffSql, productsTodayCte, tierTargetSql } from './due.ts'
import { OVERDUE_AFTER_TARGETS, TIERS, tierOf } from './tiers.ts'
import type { TierCounts } from './types.ts'

/**
 * The horizon's counts for `sync/status` without visiting every (product,
 * date) row: a scan of all 27,000 with its aggregates was ~15 ms of the call
 * on 2 cores (bench/status.ts). Instead, each part is read where it is small:
 *
 * - how many days each tier holds, from each product's horizon coverage
 *   (`product.horizon_from..horizon_to`, written by `maintainHorizon` in the
 *   statement that inserts the rows): 450 product rows;
 * - the days that are not fresh (`freshnessClass`, tiers.ts: older than the
 *   tier's target at this instant, or never fetched), one range of the
 *   (date, last_fetched_at) index per day, so fresh days are never visited;
 * - what the engine will still fetch (due, asked for by run, claimed, never
 *   fetched), through the indexes on exactly those rows;
 * - the oldest fetch of each day, one step into the same index per day;
 * - today's open days, one primary-key probe per product.
 *
 * Tier figures are over covered days, so fresh = total − due − overdue never
 * goes negative; a day never fetched counts as due (it waits for its first
 * fetch). `queue` is the engine's (`dueSql`, due.ts): every due row in the
 * horizon, covered or not, as the claims see them.
 */
const NOW = '$1::timestamptz'
const P = productsTodayCte(NOW, { syncedOnly: true })
const IN_HORIZON = `f.date BETWEEN p.today AND p.today + ${HORIZON_DAYS - 1}`

// Constant texts naming one parameter `$1` (the due.ts fragments need it as text): bound, never interpolated.
const LIVE_SQL = `
  WITH ${P}
  SELECT count(*) FILTER (WHERE ${dueSql(NOW, 'p.today')})::int AS due,
         count(*) FILTER (WHERE f.forced_at IS NOT NULL)::int AS queued,
         count(*) FILTER (WHERE f.claimed_until > ${NOW})::int AS in_flight,
         count(*) FILTER (WHERE f.last_fetched_at IS NULL)::int AS never
  FROM day_fetch_state f JOIN p ON p.id = f.product_id
  WHERE ${IN_HORIZON}
    AND (f.next_due_at <= ${NOW} OR f.forced_at IS NOT NULL OR f.claimed_until > ${NOW} OR f.last_fetched_at IS NULL)`

/**
 * `freshnessClass` in SQL: per day offset, the covered days older than
 * `OVERDUE_AFTER_TARGETS` targets (overdue), older than one (due), and never
 * fetched. Days 1–59 per calendar day and coverage (products grouped by
 * their today and horizon, so coverage is one comparison per group), each a
 * range of the (date, last_fetched_at) index; today per product (its primary
 * key), aged at most up to its last slot's start.
 */
export const freshnessCountsSql = `
  WITH ${P}, t AS (SELECT today, horizon_from, horizon_to, array_agg(id) AS ids FROM p WHERE horizon_from IS NOT NULL GROUP BY 1, 2, 3)
  SELECT o.off, s.overdue, s.due, s.never
  FROM t CROSS JOIN generate_series(1, ${HORIZON_DAYS - 1}) o(off)
  CROSS JOIN LATERAL (SELECT (${tierTargetSql('o.off')}) * interval '1 millisecond' AS target) x
  CROSS JOIN LATERAL (
    SELECT (SELECT count(*) FROM day_fetch_state f WHERE f.date = t.today + o.off AND f.product_id = ANY (t.ids)
              AND f.last_fetched_at < ${NOW} - ${OVERDUE_AFTER_TARGETS} * x.target)::int AS overdue,
           (SELECT count(*) FROM day_fetch_state f WHERE f.date = t.today + o.off AND f.product_id = ANY (t.ids)
              AND f.last_fetched_at >= ${NOW} - ${OVERDUE_AFTER_TARGETS} * x.target AND f.last_fetched_at < ${NOW} - x.target)::int AS due,
           (SELECT count(*) FROM day_fetch_state f WHERE f.date = t.today + o.off AND f.product_id = ANY (t.ids) AND f.last_fetched_at IS NULL)::int AS never) s
  WHERE t.today + o.off BETWEEN t.horizon_from AND t.horizon_to
  UNION ALL
  SELECT 0, count(*) FILTER (WHERE f.last_fetched_at < r.at - ${OVERDUE_AFTER_TARGETS} * r.target)::int,
         count(*) FILTER (WHERE f.last_fetched_at >= r.at - ${OVERDUE_AFTER_TARGETS} * r.target AND f.last_fetched_at < r.at - r.target)::int,
         count(*) FILTER (WHERE f.last_fetched_at IS NULL)::int
  FROM p JOIN day_fetch_state f ON f.product_id = p.id AND f.date = p.today
  CROSS JOIN LATERAL (
    SELECT least(${NOW}, coalesce((f.date + f.last_slot_start::time) AT TIME ZONE p.time_zone, ${NOW})) AS at,
           (${tierTargetSql('0')}) * interval '1 millisecond' AS target) r
  WHERE p.today BETWEEN p.horizon_from AND p.horizon_to`

// Today's open days through one primary-key probe per product (LIMIT 1 keeps the LATERAL a
// correlated probe; flattened, the planner hashed a scan of every row instead).
const SHAPE_SQL = `
  WITH ${P}
  SELECT (SELECT coalesce(json_agg(c), '[]') FROM (
            SELECT greatest(horizon_from - today, 0) AS lo, least(horizon_to - today, ${HORIZON_DAYS - 1}) AS hi, count(*)::int AS n
            FROM p WHERE horizon_from IS NOT NULL GROUP BY 1, 2) c) AS cover,
         (SELECT count(*)::int FROM p CROSS JOIN LATERAL (
            SELECT f.last_outcome, f.date, f.last_fetched_at, f.last_slot_start FROM day_fetch_state f WHERE f.product_id = p.id AND f.date = p.today LIMIT 1) f
          WHERE f.last_outcome IS DISTINCT FROM 'empty' AND NOT ${pastCutoffSql(NOW, 'p.today')}) AS open_today`

// Per calendar day (per distinct "today" among the zones), the first entry of
// the (date, last_fetched_at) index that belongs to a product being synced.
const OLDEST_SQL = `
  WITH ${P}, t AS (SELECT today, array_agg(id) AS ids FROM p GROUP BY today)
  SELECT o.off, (SELECT f.last_fetched_at FROM day_fetch_state f
                 WHERE f.date = t.today + o.off AND f.last_fetched_at IS NOT NULL AND f.product_id = ANY (t.ids)
                 ORDER BY f.last_fetched_at LIMIT 1) AS oldest
  FROM t CROSS JOIN generate_series(0, ${HORIZON_DAYS - 1}) o(off)`

type LiveRow = { due: number; queued: number; in_flight: number; never: number }
type StaleRow = { off: number; due: number; overdue: number; never: number }
type ShapeRow = { cover: { lo: number; hi: number; n: number }[]; open_today: number }
type OldestRow = { off: number; oldest: Date | null }

export interface HorizonCounts {
  tiers: Record<string, TierCounts>
  /** Due now, as the claim query sees it (run-queued included). */
  queue: number
  queued: number
  inFlight: number
  never: number
  openToday: number
  oldest: Date | null
}

/** Sums the four readings into tiers; pure, so the arithmetic is tested without a database. */
export function sumHorizon(live: LiveRow, shape: ShapeRow, stale: readonly StaleRow[], oldest: readonly OldestRow[]): HorizonCounts {
  const tiers: Record<string, TierCounts> = {}
  for (const t of TIERS) tiers[t.name] = { total: 0, fresh: 0, due: 0, overdue: 0, oldestFetchedAt: null }
  const out: HorizonCounts = {
    tiers,
    queue: live.due,
    queued: live.queued,
    inFlight: live.in_flight,
    never: live.never,
    openToday: shape.open_today,
    oldest: null,
  }
  for (const t of TIERS) for (const c of shape.cover) tiers[t.name]!.total += c.n * Math.max(0, Math.min(c.hi, t.toOffset) - Math.max(c.lo, t.fromOffset) + 1)
  for (const r of stale) {
    const tier = tierOf(r.off)
    if (!tier) continue
    tiers[tier.name]!.due += r.due + r.never
    tiers[tier.name]!.overdue += r.overdue
  }
  for (const t of Object.values(tiers)) t.fresh = t.total - t.due - t.overdue
  for (const r of oldest) {
    const t = r.oldest && tierOf(r.off)
    if (!r.oldest || !t) continue
    const iso = r.oldest.toISOString()
    if (tiers[t.name]!.oldestFetchedAt === null || iso < tiers[t.name]!.oldestFetchedAt!) tiers[t.name]!.oldestFetchedAt = iso
    if (!out.oldest || r.oldest < out.oldest) out.oldest = r.oldest
  }
  return out
}

export async function readHorizonCounts(prisma: PrismaClient, at: Date): Promise<HorizonCounts> {
  const [live, shape, stale, oldest] = await Promise.all([
    prisma.$queryRawUnsafe<LiveRow[]>(LIVE_SQL, at),
    prisma.$queryRawUnsafe<ShapeRow[]>(SHAPE_SQL, at),
    prisma.$queryRawUnsafe<StaleRow[]>(freshnessCountsSql, at),
    prisma.$queryRawUnsafe<OldestRow[]>(OLDEST_SQL, at),
  ])
  return sumHorizon(live[0]!, shape[0]!, stale, oldest)
}
