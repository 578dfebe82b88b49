import type pg from 'pg'
import { HORIZON_DAYS } from '../calendar/horizon.ts'
import { dueSql, fetchableSql, productsTodayCte } from './due.ts'
import type { Candidate, WeekdayStats } from './planner.ts'

/**
 * The SQL side of scheduling: keep a fetch-state row for every (product, day)
 * in the horizon, list the due ones, and claim them so that no two
 * instances fetch the same pair at once. All instants come from the engine's
 * clock (parameters), never from the database's now(), so a simulated clock
 * drives the same code.
 */
type Q = Pick<pg.Pool, 'query'>

/** Adds the horizon's new days for active products and drops days that are past. */
export async function maintainHorizon(pool: Q, now: number): Promise<{ added: number; pruned: number }> {
  const at = new Date(now)
  const added = await pool.query(
    `INSERT INTO day_fetch_state (product_id, date, next_due_at)
     SELECT p.id, d::date, $1
     FROM product p
     CROSS JOIN LATERAL generate_series(($1::timestamptz AT TIME ZONE p.time_zone)::date,
                                        ($1::timestamptz AT TIME ZONE p.time_zone)::date + $2::int, interval '1 day') AS d
     WHERE p.active
     ON CONFLICT DO NOTHING`,
    [at, HORIZON_DAYS - 1],
  )
  // Yesterday is kept: a client a few minutes behind midnight may still ask for it.
  const pruned = await pool.query(
    `WITH gone AS (
       DELETE FROM day_fetch_state f USING product p
       WHERE p.id = f.product_id AND f.date < ($1::timestamptz AT TIME ZONE p.time_zone)::date - 1
       RETURNING f.product_id, f.date)
     DELETE FROM slot s USING gone WHERE s.product_id = gone.product_id AND s.date = gone.date`,
    [at],
  )
  await pool.query(`DELETE FROM partner_request WHERE sent_at < $1`, [new Date(now - 2 * 86_400_000)])
  return { added: added.rowCount ?? 0, pruned: pruned.rowCount ?? 0 }
}

type CandidateRow = { product_id: number; date: string; time_zone: string; next_due_at: Date; forced_at: Date | null; last_slot_start: string | null; last_fetched_at: Date | null }

const toCandidate = (r: CandidateRow): Candidate => ({
  productId: r.product_id,
  date: r.date,
  timeZone: r.time_zone,
  nextDueAt: r.next_due_at.getTime(),
  forcedAt: r.forced_at ? r.forced_at.getTime() : null,
  lastSlotStart: r.last_slot_start,
  lastFetchedAt: r.last_fetched_at ? r.last_fetched_at.getTime() : null,
})

/**
 * Due pairs (due.ts) that nobody holds. All of the near days (offset 0–7,
 * where the weighting matters) and everything "run now" asked for, plus the
 * `limit` longest-due far days: among far days of one tier, longest-due
 * first is the planner's order, so it ranks a few thousand rows instead of
 * the whole backlog.
 */
export async function loadCandidates(pool: Q, now: number, limit: number): Promise<Candidate[]> {
  const { rows } = await pool.query<CandidateRow>(
    // Two branches so the next_due_at index serves the common case (few due at once).
    `WITH ${productsTodayCte('$1::timestamptz')},
     due AS (
       SELECT f.product_id, f.date::text AS date, p.time_zone, f.next_due_at, f.forced_at, f.last_slot_start, f.last_fetched_at, f.date - p.today AS off
       FROM day_fetch_state f JOIN p ON p.id = f.product_id
       WHERE f.next_due_at <= $1 AND ${dueSql('$1::timestamptz', 'p.today')} AND (f.claimed_until IS NULL OR f.claimed_until < $1)
       UNION
       SELECT f.product_id, f.date::text AS date, p.time_zone, f.next_due_at, f.forced_at, f.last_slot_start, f.last_fetched_at, f.date - p.today AS off
       FROM day_fetch_state f JOIN p ON p.id = f.product_id
       WHERE f.forced_at IS NOT NULL AND ${dueSql('$1::timestamptz', 'p.today')} AND (f.claimed_until IS NULL OR f.claimed_until < $1))
     (SELECT * FROM due WHERE off BETWEEN 0 AND 7 OR forced_at IS NOT NULL)
     UNION ALL
     (SELECT * FROM due WHERE off > 7 AND forced_at IS NULL ORDER BY next_due_at LIMIT $2)`,
    [new Date(now), limit],
  )
  return rows.map(toCandidate)
}

/**
 * Early only once this share of the interval from a day's last fetch to its
 * next due time has passed: at most twice the refreshes the planner asks
 * for, so spare budget is spent without hammering the partner (whose key
 * other systems may share) when the limit is far above what the catalogue
 * needs.
 */
export const EARLY_AT_SHARE = 0.5

/**
 * When nothing is due, the budget left this minute is lost unless spent:
 * these are the pairs to refresh early, the largest elapsed share of their
 * interval (last fetch → next due) first, so every tier is refreshed a
 * little sooner, in proportion. Days last seen empty are left alone (they rarely change).
 */
export async function loadEarly(pool: Q, now: number, limit: number): Promise<Candidate[]> {
  const { rows } = await pool.query<CandidateRow>(
    `WITH ${productsTodayCte('$1::timestamptz')}
     SELECT f.product_id, f.date::text AS date, p.time_zone, f.next_due_at, NULL::timestamptz AS forced_at, f.last_slot_start, f.last_fetched_at
     FROM day_fetch_state f JOIN p ON p.id = f.product_id
     WHERE f.next_due_at > $1 AND f.last_outcome = 'ok' AND ${fetchableSql('$1::timestamptz', 'p.today')}
       AND $1 - f.last_fetched_at >= ${EARLY_AT_SHARE} * (f.next_due_at - f.last_fetched_at)
       AND (f.claimed_until IS NULL OR f.claimed_until < $1)
     ORDER BY extract(epoch FROM $1 - f.last_fetched_at) / nullif(extract(epoch FROM f.next_due_at - f.last_fetched_at), 0) DESC, f.product_id, f.date
     LIMIT $2`,
    [new Date(now), limit],
  )
  return rows.map(toCandidate)
}

export interface ClaimedPair {
  productId: number
  date: string
  timeZone: string
  totalRemaining: number | null
  consecutiveFailures: number
  claimedAt: number
}

/**
 * Claims pairs for `instanceId` until `now + ttlMs`. Rows another instance
 * holds (locked or claimed) or has just fetched (no longer due) are skipped,
 * so two instances never fetch one pair at once; a claim whose holder died
 * expires and is taken over.
 */
export async function claimPairs(pool: Q, pairs: { productId: number; date: string }[], instanceId: string, now: number, ttlMs: number): Promise<ClaimedPair[]> {
  if (!pairs.length) return []
  const { rows } = await pool.query<{ product_id: number; date: string; time_zone: string; total_remaining: number | null; consecutive_failures: number }>(
    `WITH want AS (SELECT * FROM unnest($1::int[], $2::date[]) AS w(product_id, date)),
     c AS (
       SELECT f.product_id, f.date FROM day_fetch_state f JOIN want ON want.product_id = f.product_id AND want.date = f.date
       WHERE (f.claimed_until IS NULL OR f.claimed_until < $3) AND (f.next_due_at <= $3 OR f.forced_at IS NOT NULL)
       FOR UPDATE OF f SKIP LOCKED)
     UPDATE day_fetch_state f SET claimed_by = $4, claimed_until = $5
     FROM c, product p
     WHERE f.product_id = c.product_id AND f.date = c.date AND p.id = f.product_id
     RETURNING f.product_id, f.date::text AS date, p.time_zone, f.total_remaining, f.consecutive_failures`,
    [pairs.map((p) => p.productId), pairs.map((p) => p.date), new Date(now), instanceId, new Date(now + ttlMs)],
  )
  return rows.map((r) => ({
    productId: r.product_id,
    date: r.date,
    timeZone: r.time_zone,
    totalRemaining: r.total_remaining,
    consecutiveFailures: r.consecutive_failures,
    claimedAt: now,
  }))
}

/**
 * Claims the first pair of `ranked` (the planner's order) that is still due,
 * unclaimed and not locked by another instance, in one statement. Runs inside
 * the budget's transaction (dispatch): a place in the window and a pair are
 * taken together, at the moment of sending, or neither is. With `early`,
 * pairs not yet due may be claimed (spare budget, see loadEarly), but only
 * if nobody fetched them since they were listed. `skipped` is how
 * many leading pairs were no longer available (another instance took them,
 * the product was paused or removed), so the caller can drop them.
 */
export async function claimNext(
  tx: Q,
  ranked: readonly { productId: number; date: string; nextDueAt: number }[],
  instanceId: string,
  now: number,
  ttlMs: number,
  opts: { early?: boolean } = {},
): Promise<{ pair?: ClaimedPair; skipped: number }> {
  if (!ranked.length) return { skipped: 0 }
  const { rows } = await tx.query<{ product_id: number; date: string; time_zone: string; total_remaining: number | null; consecutive_failures: number; ord: string }>(
    `WITH want AS (SELECT * FROM unnest($1::int[], $2::date[], $6::timestamptz[]) WITH ORDINALITY AS w(product_id, date, next_due_at, ord)),
     c AS (
       SELECT f.product_id, f.date, want.ord FROM want
       JOIN day_fetch_state f ON f.product_id = want.product_id AND f.date = want.date
       JOIN product p ON p.id = f.product_id
       WHERE ${opts.early ? `${fetchableSql('$3::timestamptz')} AND f.next_due_at = want.next_due_at` : dueSql('$3::timestamptz')}
         AND (f.claimed_until IS NULL OR f.claimed_until < $3)
       ORDER BY want.ord LIMIT 1
       FOR UPDATE OF f SKIP LOCKED)
     UPDATE day_fetch_state f SET claimed_by = $4, claimed_until = $5
     FROM c, product p
     WHERE f.product_id = c.product_id AND f.date = c.date AND p.id = f.product_id
     RETURNING f.product_id, f.date::text AS date, p.time_zone, f.total_remaining, f.consecutive_failures, c.ord`,
    [ranked.map((p) => p.productId), ranked.map((p) => p.date), new Date(now), instanceId, new Date(now + ttlMs), ranked.map((p) => new Date(p.nextDueAt))],
  )
  const r = rows[0]
  if (!r) return { skipped: ranked.length }
  return {
    pair: { productId: r.product_id, date: r.date, timeZone: r.time_zone, totalRemaining: r.total_remaining, consecutiveFailures: r.consecutive_failures, claimedAt: now },
    skipped: Number(r.ord) - 1,
  }
}

/** Hands one unfetched pair back (its fetch was not sent). */
export async function releaseClaim(pool: Q, instanceId: string, pair: { productId: number; date: string }): Promise<void> {
  await pool.query(`UPDATE day_fetch_state SET claimed_by = NULL, claimed_until = NULL WHERE product_id = $1 AND date = $2::date AND claimed_by = $3`, [pair.productId, pair.date, instanceId])
}

/** On a graceful stop: hand back what this instance holds but did not fetch. */
export async function releaseClaims(pool: Q, instanceId: string): Promise<number> {
  const r = await pool.query(`UPDATE day_fetch_state SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1`, [instanceId])
  return r.rowCount ?? 0
}

/** Per product and weekday (0 = Sunday): fetched days with slots vs. empty, within the horizon. */
export async function weekdayStats(pool: Q, productIds: number[]): Promise<Map<number, Map<number, WeekdayStats>>> {
  const out = new Map<number, Map<number, WeekdayStats>>()
  if (!productIds.length) return out
  const { rows } = await pool.query<{ product_id: number; dow: number; open: number; empty: number }>(
    `SELECT product_id, extract(dow FROM date)::int AS dow,
            count(*) FILTER (WHERE last_outcome = 'ok')::int AS open,
            count(*) FILTER (WHERE last_outcome = 'empty')::int AS empty
     FROM day_fetch_state WHERE product_id = ANY($1::int[]) GROUP BY 1, 2`,
    [productIds],
  )
  for (const r of rows) {
    if (!out.has(r.product_id)) out.set(r.product_id, new Map())
    out.get(r.product_id)!.set(r.dow, { open: r.open, empty: r.empty })
  }
  return out
}
