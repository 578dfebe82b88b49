import { HORIZON_DAYS } from '../calendar/horizon.ts'
import type { PrismaClient } from '../db/client.ts'
import { dueSql, pastCutoffSql, productsTodayCte, tierTargetSql } from './due.ts'
import { TIERS, tierOf } from './tiers.ts'
import type { TierCounts } from './types.ts'

/**
 * The horizon's counts for `sync/status` without visiting every (product,
 * date) row: a scan of all 27,000 with its aggregates was ~15 ms of the call
 * on 2 cores (bench/status.ts). Instead, each part is read where it is small:
 *
 * - how many days each tier holds, from each product's horizon coverage
 *   (`product.horizon_from..horizon_to`, written by `maintainHorizon` in the
 *   statement that inserts the rows): 450 product rows;
 * - everything that is not "fresh and fetched" (due, asked for by run,
 *   claimed, never fetched), through the indexes on exactly those rows;
 * - the oldest fetch of each day, one step into the (date, last_fetched_at)
 *   index per day;
 * - today's open days, one primary-key probe per product.
 *
 * Due is `dueSql` (due.ts), the rule the claim query uses. Tier figures are
 * over covered days, so fresh = total − due never goes negative; `queue`
 * counts every due row in the horizon, covered or not, as the claims see them.
 */
const NOW = '$1::timestamptz'
const P = productsTodayCte(NOW, { syncedOnly: true })
const IN_HORIZON = `f.date BETWEEN p.today AND p.today + ${HORIZON_DAYS - 1}`

// Constant texts naming one parameter `$1` (the due.ts fragments need it as text): bound, never interpolated.
const LIVE_SQL = `
  WITH ${P}
  SELECT off, covered, count(*) FILTER (WHERE due)::int AS due,
         count(*) FILTER (WHERE due AND next_due_at <= ${NOW} - (${tierTargetSql('off')}) * interval '1 millisecond')::int AS overdue,
         count(*) FILTER (WHERE forced_at IS NOT NULL)::int AS queued,
         count(*) FILTER (WHERE claimed_until > ${NOW})::int AS in_flight,
         count(*) FILTER (WHERE last_fetched_at IS NULL)::int AS never
  FROM (
    SELECT f.date - p.today AS off, coalesce(f.date BETWEEN p.horizon_from AND p.horizon_to, false) AS covered,
           f.next_due_at, f.forced_at, f.claimed_until, f.last_fetched_at, ${dueSql(NOW, 'p.today')} AS due
    FROM day_fetch_state f JOIN p ON p.id = f.product_id
    WHERE ${IN_HORIZON}
      AND (f.next_due_at <= ${NOW} OR f.forced_at IS NOT NULL OR f.claimed_until > ${NOW} OR f.last_fetched_at IS NULL)) live
  GROUP BY off, covered`

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

type LiveRow = { off: number; covered: boolean; due: number; overdue: number; queued: number; in_flight: number; never: number }
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

/** Sums the three readings into tiers; pure, so the arithmetic is tested without a database. */
export function sumHorizon(live: readonly LiveRow[], shape: ShapeRow, oldest: readonly OldestRow[]): HorizonCounts {
  const tiers: Record<string, TierCounts> = {}
  for (const t of TIERS) tiers[t.name] = { total: 0, fresh: 0, due: 0, overdue: 0, oldestFetchedAt: null }
  const out: HorizonCounts = { tiers, queue: 0, queued: 0, inFlight: 0, never: 0, openToday: shape.open_today, oldest: null }
  for (const t of TIERS) for (const c of shape.cover) tiers[t.name]!.total += c.n * Math.max(0, Math.min(c.hi, t.toOffset) - Math.max(c.lo, t.fromOffset) + 1)
  for (const r of live) {
    out.queue += r.due
    out.queued += r.queued
    out.inFlight += r.in_flight
    out.never += r.never
    const tier = tierOf(r.off)
    if (!tier || !r.covered) continue
    tiers[tier.name]!.due += r.due - r.overdue
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
  const [live, shape, oldest] = await Promise.all([
    prisma.$queryRawUnsafe<LiveRow[]>(LIVE_SQL, at),
    prisma.$queryRawUnsafe<ShapeRow[]>(SHAPE_SQL, at),
    prisma.$queryRawUnsafe<OldestRow[]>(OLDEST_SQL, at),
  ])
  return sumHorizon(live, shape[0]!, oldest)
}
