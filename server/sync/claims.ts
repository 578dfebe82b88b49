import { HORIZON_DAYS } from '../calendar/horizon.ts'
import { Prisma, type Db } from '../db/client.ts'
import { DEMAND_JOIN, demandSql } from './demand.ts'
import { dueSql, fetchableSql, productsTodayCte, reasonsSql } from './due.ts'
import { PLANNED_REASONS, type DueReason, type WeekdayStats } from './policy/deadline.ts'
import { PLAN_MS, type PlannedTier } from './policy/plan.ts'
import type { Candidate } from './policy/rank.ts'
import { TIERS } from './tiers.ts'

/**
 * The SQL side of scheduling: keep a fetch-state row for every (product, day)
 * in the horizon, list the due ones, and claim them so that no two
 * instances fetch the same pair at once. All instants come from the engine's
 * clock (parameters), never from the database's now(), so a simulated clock
 * drives the same code.
 */

/**
 * due.ts writes its rules as SQL text around an expression for "now"; here
 * that expression is the statement's first parameter. Prisma numbers
 * parameters in the order they appear, so `nowFirst` checks that the
 * instant is the first value of each statement built with `NOW`.
 */
const NOW = '$1::timestamptz'
const raw = Prisma.raw
/** The instant again, after its first (bound) mention. */
const AT_NOW = raw(NOW)
function nowFirst(at: Date, q: Prisma.Sql): Prisma.Sql {
  if (q.values[0] !== at) throw new Error('a statement using due.ts fragments must bind the instant first')
  return q
}

// The rules of due.ts, built once (constant text: safe as raw SQL).
const P_TODAY_SYNCED = raw(productsTodayCte(NOW, { syncedOnly: true }))
const DUE = raw(dueSql(NOW))
/** Spare budget: worth a request, and nobody fetched it since it was listed. */
const EARLY_CLAIMABLE = raw(`${fetchableSql(NOW)} AND f.next_due_at = want.next_due_at`)

/** Adds the horizon's new days for active products and drops days that are past. */
export async function maintainHorizon(db: Db, now: number): Promise<{ added: number; pruned: number }> {
  const at = new Date(now)
  // The rows and the product's record of them in one statement: sync/status
  // counts a tier's days from horizon_from..horizon_to (horizon-counts.ts).
  const rows = await db.$queryRaw<{ added: number }[]>`
    WITH h AS (SELECT id, (${at}::timestamptz AT TIME ZONE time_zone)::date AS today FROM product WHERE active),
    ins AS (
      INSERT INTO day_fetch_state (product_id, date, next_due_at)
      SELECT h.id, d::date, ${at}::timestamptz
      FROM h CROSS JOIN LATERAL generate_series(h.today, h.today + ${HORIZON_DAYS - 1}::int, interval '1 day') AS d
      ON CONFLICT DO NOTHING
      RETURNING 1),
    cover AS (
      UPDATE product p SET horizon_from = h.today, horizon_to = h.today + ${HORIZON_DAYS - 1}::int
      FROM h WHERE p.id = h.id AND (p.horizon_from IS DISTINCT FROM h.today OR p.horizon_to IS DISTINCT FROM h.today + ${HORIZON_DAYS - 1}::int))
    SELECT count(*)::int AS added FROM ins`
  const added = rows[0]!.added
  // Yesterday is kept: a client a few minutes behind midnight may still ask for it.
  const pruned = await db.$executeRaw`
    WITH gone AS (
      DELETE FROM day_fetch_state f USING product p
      WHERE p.id = f.product_id AND f.date < (${at}::timestamptz AT TIME ZONE p.time_zone)::date - 1
      RETURNING f.product_id, f.date)
    DELETE FROM slot s USING gone WHERE s.product_id = gone.product_id AND s.date = gone.date`
  await db.partnerRequest.deleteMany({ where: { sentAt: { lt: new Date(now - 2 * 86_400_000) } } })
  return { added, pruned }
}

type CandidateRow = {
  product_id: number
  date: string
  time_zone: string
  next_due_at: Date
  due_reason: string
  forced_at: Date | null
  last_slot_start: string | null
  last_fetched_at: Date | null
  demand: number
}

const toCandidate = (r: CandidateRow): Candidate => ({
  productId: r.product_id,
  date: r.date,
  timeZone: r.time_zone,
  nextDueAt: r.next_due_at.getTime(),
  reason: r.due_reason as DueReason,
  forcedAt: r.forced_at ? r.forced_at.getTime() : null,
  lastSlotStart: r.last_slot_start,
  lastFetchedAt: r.last_fetched_at ? r.last_fetched_at.getTime() : null,
  demand: r.demand,
})

/** The tier index (TIERS order) of an offset expression, as SQL. */
const tierIndexSql = (off: string) => `CASE ${TIERS.map((t, i) => `WHEN ${off} <= ${t.toOffset} THEN ${i}`).join(' ')} END`
const PLANNED = raw(reasonsSql(PLANNED_REASONS))
/** The tier a pair is served in: its date's offset when it goes stale, or now (policy/deadline.ts dueTier). */
const DUE_TIER = raw(tierIndexSql(`(f.date - (GREATEST(f.next_due_at, ${NOW}) AT TIME ZONE p.time_zone)::date)`))
/** What the ranking may list: worth a request, and nobody holds it. */
const LISTABLE = raw(`${fetchableSql(NOW, 'p.today')} AND (f.claimed_until IS NULL OR f.claimed_until < ${NOW})`)
/** A day's reads decayed to now (sync/demand.ts), and the join that brings them. */
const DEMAND = raw(demandSql(NOW))
const WITH_DEMAND = raw(DEMAND_JOIN)
/** A planned tier's order of turns (policy/demand.ts byTurnOrder): stale days most read first, then by staleness. */
const TURN_ORDER = raw(`CASE WHEN next_due_at <= ${NOW} THEN demand END DESC NULLS LAST, next_due_at, product_id, date`)

/**
 * What the ranking (policy/rank.ts) orders, unclaimed and worth a request:
 * everything "run now" asked for, today's and timed pairs that are due,
 * every pair served as today (at most two a product: it may go early), and
 * of each planned tier the `limits[tier]` first in its order of turns, due or
 * not (the plan may send them before they are due: a sweep before a busy
 * midnight), and as many of its most-read days (the candidates for spare
 * requests, which go to the most read first). Each with its reads, decayed
 * to now.
 */
export async function loadCandidates(db: Db, now: number, limits: Readonly<Record<PlannedTier, number>>): Promise<Candidate[]> {
  const at = new Date(now)
  const perTier = TIERS.map((t) => (t.name === 'today' ? 0 : limits[t.name as PlannedTier]))
  const rows = await db.$queryRaw<CandidateRow[]>(
    nowFirst(
      at,
      Prisma.sql`
        WITH n AS (SELECT ${at}::timestamptz AS now), ${P_TODAY_SYNCED},
        c AS (
          SELECT f.product_id, f.date, p.time_zone, f.next_due_at, f.due_reason, f.forced_at, f.last_slot_start, f.last_fetched_at, ${DUE_TIER} AS tier,
                 ${DEMAND} AS demand
          FROM day_fetch_state f JOIN p ON p.id = f.product_id ${WITH_DEMAND}
          WHERE ${LISTABLE}),
        planned AS (
          SELECT c.*, row_number() OVER (PARTITION BY tier ORDER BY ${TURN_ORDER}) AS n,
                 row_number() OVER (PARTITION BY tier ORDER BY demand DESC, next_due_at, product_id, date) AS m
          FROM c WHERE forced_at IS NULL AND tier > 0 AND due_reason IN (${PLANNED})
            -- a day stale only after the plan's end has no turn in it
            AND next_due_at < ${AT_NOW} + ${raw(`interval '${PLAN_MS / 1000} seconds'`)})
        SELECT product_id, date::text AS date, time_zone, next_due_at, due_reason, forced_at, last_slot_start, last_fetched_at, demand
        FROM c WHERE forced_at IS NOT NULL OR ((tier = 0 OR due_reason NOT IN (${PLANNED})) AND next_due_at <= ${AT_NOW}) OR due_reason = 'today'
        UNION ALL
        SELECT product_id, date::text, time_zone, next_due_at, due_reason, forced_at, last_slot_start, last_fetched_at, demand
        FROM planned WHERE n <= (${perTier}::int[])[tier + 1] OR (demand > 0 AND m <= (${perTier}::int[])[tier + 1])`,
    ),
  )
  return rows.map(toCandidate)
}

type ClaimRow = { product_id: number; date: string; time_zone: string; consecutive_failures: number }

const toClaimed = (r: ClaimRow, now: number): ClaimedPair => ({
  productId: r.product_id,
  date: r.date,
  timeZone: r.time_zone,
  consecutiveFailures: r.consecutive_failures,
  claimedAt: now,
})

export interface ClaimedPair {
  productId: number
  date: string
  timeZone: string
  consecutiveFailures: number
  claimedAt: number
}

/**
 * Claims the first pair of `ranked` (policy/rank.ts's order) that is still due,
 * unclaimed and not locked by another instance, in one statement. Runs inside
 * the budget's transaction (dispatch): a place in the window and a pair are
 * taken together, at the moment of sending, or neither is. A pair marked
 * `early` may be claimed though not due (its turn in the plan came first, or
 * budget nothing due needs), but only if nobody fetched it since it was listed. `skipped` is how
 * many leading pairs were no longer available (another instance took them,
 * the product was paused or removed), so the caller can drop them.
 */
export async function claimNext(
  tx: Db,
  ranked: readonly { productId: number; date: string; nextDueAt: number; early?: boolean }[],
  instanceId: string,
  now: number,
  ttlMs: number,
): Promise<{ pair?: ClaimedPair; skipped: number }> {
  if (!ranked.length) return { skipped: 0 }
  const at = new Date(now)
  const rows = await tx.$queryRaw<(ClaimRow & { ord: bigint })[]>(
    nowFirst(
      at,
      Prisma.sql`
        WITH want AS (
          SELECT ${at}::timestamptz AS now, w.*
          FROM unnest(${ranked.map((p) => p.productId)}::int[], ${ranked.map((p) => p.date)}::date[], ${ranked.map((p) => new Date(p.nextDueAt))}::timestamptz[],
                      ${ranked.map((p) => p.early === true)}::bool[])
               WITH ORDINALITY AS w(product_id, date, next_due_at, early, ord)),
        c AS (
          SELECT f.product_id, f.date, want.ord FROM want
          JOIN day_fetch_state f ON f.product_id = want.product_id AND f.date = want.date
          JOIN product p ON p.id = f.product_id
          WHERE (CASE WHEN want.early THEN ${EARLY_CLAIMABLE} ELSE ${DUE} END) AND (f.claimed_until IS NULL OR f.claimed_until < want.now)
          ORDER BY want.ord LIMIT 1
          FOR UPDATE OF f SKIP LOCKED)
        UPDATE day_fetch_state f SET claimed_by = ${instanceId}, claimed_until = ${new Date(now + ttlMs)}
        FROM c, product p
        WHERE f.product_id = c.product_id AND f.date = c.date AND p.id = f.product_id
        RETURNING f.product_id, f.date::text AS date, p.time_zone, f.consecutive_failures, c.ord`,
    ),
  )
  const r = rows[0]
  if (!r) return { skipped: ranked.length }
  return { pair: toClaimed(r, now), skipped: Number(r.ord) - 1 }
}

/** On a graceful stop: hand back what this instance holds but did not fetch. */
export async function releaseClaims(db: Db, instanceId: string): Promise<number> {
  const r = await db.dayFetchState.updateMany({ where: { claimedBy: instanceId }, data: { claimedBy: null, claimedUntil: null } })
  return r.count
}

/** Per product and weekday (0 = Sunday): fetched days with slots vs. empty, within the horizon. */
export async function weekdayStats(db: Db, productIds: number[]): Promise<Map<number, Map<number, WeekdayStats>>> {
  const out = new Map<number, Map<number, WeekdayStats>>()
  if (!productIds.length) return out
  const rows = await db.$queryRaw<{ product_id: number; dow: number; open: number; empty: number }[]>`
    SELECT product_id, extract(dow FROM date)::int AS dow,
           count(*) FILTER (WHERE last_outcome = 'ok')::int AS open,
           count(*) FILTER (WHERE last_outcome = 'empty')::int AS empty
    FROM day_fetch_state WHERE product_id = ANY(${productIds}::int[]) GROUP BY 1, 2`
  for (const r of rows) {
    if (!out.has(r.product_id)) out.set(r.product_id, new Map())
    out.get(r.product_id)!.set(r.dow, { open: r.open, empty: r.empty })
  }
  return out
}

/**
 * Where a pair stands in its tier's order of turns (policy/demand.ts
 * byTurnOrder): how many planned pairs of the tier it is served in come
 * before it, among those the engine would list now. For sync/explain.
 */
export async function stalenessPosition(db: Db, now: number, productId: number, date: string): Promise<number> {
  const at = new Date(now)
  const rows = await db.$queryRaw<{ n: number }[]>(
    nowFirst(
      at,
      Prisma.sql`
        WITH n AS (SELECT ${at}::timestamptz AS now), ${P_TODAY_SYNCED},
        c AS (
          SELECT f.product_id, f.date, f.next_due_at, ${DUE_TIER} AS tier, ${DEMAND} AS demand, f.next_due_at <= ${AT_NOW} AS stale
          FROM day_fetch_state f JOIN p ON p.id = f.product_id ${WITH_DEMAND}
          WHERE ${LISTABLE} AND f.forced_at IS NULL AND f.due_reason IN (${PLANNED})),
        me AS (SELECT * FROM c WHERE product_id = ${productId} AND date = ${date}::date)
        SELECT count(*)::int AS n FROM c, me
        WHERE c.tier = me.tier AND (
          (c.stale AND NOT me.stale)
          OR (c.stale = me.stale AND (
            (c.stale AND c.demand > me.demand)
            OR ((NOT c.stale OR c.demand = me.demand) AND (c.next_due_at, c.product_id, c.date) < (me.next_due_at, me.product_id, me.date)))))`,
    ),
  )
  return rows[0]?.n ?? 0
}
