import { HORIZON_DAYS } from '../calendar/horizon.ts'
import { Prisma, type Db } from '../db/client.ts'
import { dueSql, fetchableSql, productsTodayCte } from './due.ts'
import { TIERS } from './tiers.ts'
import { CRUNCH_PULL, type Candidate, type PullPlan, type WeekdayStats } from './planner.ts'
import { REPHASE_OFFSETS, type RephaseWindow } from './rephase.ts'

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
const P_TODAY = raw(productsTodayCte(NOW))
const P_TODAY_SYNCED = raw(productsTodayCte(NOW, { syncedOnly: true }))
const DUE_TODAY = raw(dueSql(NOW, 'p.today'))
const FETCHABLE_TODAY = raw(fetchableSql(NOW, 'p.today'))
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

/**
 * What `crunchAhead` (planner.ts) weighs: open days (last fetched with
 * slots) of active, unpaused products tomorrow and on days 2–8, each in its
 * product's calendar.
 */
export async function crunchCounts(db: Db, now: number): Promise<{ tomorrowOpen: number; weekOpen: number }> {
  const at = new Date(now)
  const [r] = await db.$queryRaw<{ tomorrow: number; week: number }[]>`
    WITH p AS MATERIALIZED (SELECT id, (${at}::timestamptz AT TIME ZONE time_zone)::date AS today FROM product WHERE active AND NOT paused)
    SELECT count(*) FILTER (WHERE f.date = p.today + 1)::int AS tomorrow, count(*) FILTER (WHERE f.date > p.today + 1)::int AS week
    FROM day_fetch_state f JOIN p ON p.id = f.product_id
    WHERE f.last_outcome = 'ok' AND f.date BETWEEN p.today + 1 AND p.today + 8`
  return { tomorrowOpen: r?.tomorrow ?? 0, weekOpen: r?.week ?? 0 }
}

/**
 * Brings forward the open days 8–30 of tomorrow that would fall due from the
 * pull's landing instant until the crunch ahead ends (planner.ts
 * `CRUNCH_PULL`, `pullPlan`) to the afternoon before it, keeping their
 * order: due at landing + x, a day is due at noon + x × `scale`. Once per
 * day: only days last fetched before today's local noon and due from the
 * landing instant, which a pulled day no longer is. The engine calls it only
 * while `crunchAhead` holds. Returns how many were pulled.
 */
export async function pullAheadOfCrunch(db: Db, now: number, plan: PullPlan): Promise<number> {
  const { landsByMs, scale } = plan
  if (!Number.isFinite(scale) || scale < 0 || scale > 1) throw new Error(`pull scale must be in [0, 1], got ${scale}`)
  if (!Number.isInteger(landsByMs) || landsByMs < CRUNCH_PULL.fromMs || landsByMs > 24 * 3_600_000) {
    throw new Error(`pull landing must be a whole ms between noon and midnight, got ${landsByMs}`)
  }
  const at = new Date(now)
  const from = `${CRUNCH_PULL.fromMs / 1000} seconds`
  const span = `${CRUNCH_PULL.crunchSpanMs / 1000} seconds`
  // Constant or checked text, so the instant stays the first bound value (nowFirst).
  const noon = raw(`interval '${from}'`)
  const lands = raw(`interval '${landsByMs / 1000} seconds'`)
  const scaled = raw(`${scale}::float8`)
  return db.$executeRaw(
    nowFirst(
      at,
      Prisma.sql`
    WITH ${P_TODAY_SYNCED}
    UPDATE day_fetch_state f
    SET next_due_at = (p.today + ${noon}) AT TIME ZONE p.time_zone
      + (f.next_due_at - (p.today + ${lands}) AT TIME ZONE p.time_zone) * ${scaled}
    FROM p
    WHERE ${at}::timestamptz >= (p.today + ${from}::interval) AT TIME ZONE p.time_zone
      AND f.product_id = p.id
      AND f.date BETWEEN p.today + ${CRUNCH_PULL.fromOffset}::int AND p.today + ${CRUNCH_PULL.toOffset}::int
      AND f.last_outcome = 'ok' AND f.forced_at IS NULL
      AND (f.claimed_until IS NULL OR f.claimed_until < ${at}::timestamptz)
      AND f.last_fetched_at < (p.today + ${from}::interval) AT TIME ZONE p.time_zone
      AND f.next_due_at >= (p.today + ${lands}) AT TIME ZONE p.time_zone
      AND f.next_due_at < (p.today + 1 + ${span}::interval) AT TIME ZONE p.time_zone`,
    ),
  )
}

type CandidateRow = {
  product_id: number
  date: string
  time_zone: string
  next_due_at: Date
  forced_at: Date | null
  last_slot_start: string | null
  last_fetched_at: Date | null
}

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
 * Listed in full: days 0–7 and day 8, which ranks as days 1–7 in the sweep
 * before midnight (it is tomorrow's day 7). Among the rest, days 9–31 come
 * before days 32–59: a backlog of the latter must not hide the former from
 * the planner, which ranks them far higher (and, pulled ahead of a crunch,
 * thousands of days 9–31 fall due at once: listed by due time alone they
 * would hide day 8 from the sweep). Day 31 is tomorrow's day 30, which ranks
 * as days 8–30 from its window (planner.ts); listed behind days 32–59 it
 * would never be reached ahead of the crunch, and the next morning would
 * start with that day of days 8–30 stale.
 */
const SWEPT_LAST = TIERS[1].toOffset + 1
const MONTH_LAST = TIERS[2].toOffset + 1

/**
 * Due pairs (due.ts) that nobody holds. All of the near days (offset 0–8,
 * where the weighting matters) and everything "run now" asked for, plus the
 * `limit` longest-due far days: among far days of one tier, longest-due
 * first is the planner's order, so it ranks a few thousand rows instead of
 * the whole backlog.
 */
export async function loadCandidates(db: Db, now: number, limit: number): Promise<Candidate[]> {
  const at = new Date(now)
  // Two branches so the next_due_at index serves the common case (few due at once).
  const rows = await db.$queryRaw<CandidateRow[]>(
    nowFirst(
      at,
      Prisma.sql`
        WITH ${P_TODAY},
        due AS (
          SELECT f.product_id, f.date::text AS date, p.time_zone, f.next_due_at, f.forced_at, f.last_slot_start, f.last_fetched_at, f.date - p.today AS off
          FROM day_fetch_state f JOIN p ON p.id = f.product_id
          WHERE f.next_due_at <= ${at} AND ${DUE_TODAY} AND (f.claimed_until IS NULL OR f.claimed_until < ${AT_NOW})
          UNION
          SELECT f.product_id, f.date::text AS date, p.time_zone, f.next_due_at, f.forced_at, f.last_slot_start, f.last_fetched_at, f.date - p.today AS off
          FROM day_fetch_state f JOIN p ON p.id = f.product_id
          WHERE f.forced_at IS NOT NULL AND ${DUE_TODAY} AND (f.claimed_until IS NULL OR f.claimed_until < ${AT_NOW}))
        (SELECT * FROM due WHERE off BETWEEN 0 AND ${SWEPT_LAST} OR forced_at IS NOT NULL)
        UNION ALL
        (SELECT * FROM due WHERE off > ${SWEPT_LAST} AND forced_at IS NULL ORDER BY off > ${MONTH_LAST}, next_due_at LIMIT ${limit})`,
    ),
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
export async function loadEarly(db: Db, now: number, limit: number): Promise<Candidate[]> {
  const at = new Date(now)
  const rows = await db.$queryRaw<CandidateRow[]>(
    nowFirst(
      at,
      Prisma.sql`
        WITH ${P_TODAY}
        SELECT f.product_id, f.date::text AS date, p.time_zone, f.next_due_at, NULL::timestamptz AS forced_at, f.last_slot_start, f.last_fetched_at
        FROM day_fetch_state f JOIN p ON p.id = f.product_id
        WHERE f.next_due_at > ${at} AND f.last_outcome = 'ok' AND ${FETCHABLE_TODAY}
          AND ${AT_NOW} - f.last_fetched_at >= ${raw(String(EARLY_AT_SHARE))} * (f.next_due_at - f.last_fetched_at)
          AND (f.claimed_until IS NULL OR f.claimed_until < ${AT_NOW})
        ORDER BY extract(epoch FROM ${AT_NOW} - f.last_fetched_at) / nullif(extract(epoch FROM f.next_due_at - f.last_fetched_at), 0) DESC, f.product_id, f.date
        LIMIT ${limit}`,
    ),
  )
  return rows.map(toCandidate)
}

/** The time zones of the products being synced. */
export async function syncedTimeZones(db: Db): Promise<string[]> {
  const rows = await db.$queryRaw<{ time_zone: string }[]>`SELECT DISTINCT time_zone FROM product WHERE active AND NOT paused ORDER BY 1`
  return rows.map((r) => r.time_zone)
}

/**
 * Open days 2–7 not yet due whose due time falls in their zone's rephase
 * window (rephase.ts `rephaseWindow`), earliest due first: the planner's
 * candidates for a fetch before they are due.
 */
export async function loadRephase(db: Db, now: number, byZone: ReadonlyMap<string, RephaseWindow>, limit: number): Promise<Candidate[]> {
  if (!byZone.size) return []
  const windows = [...byZone].map(([timeZone, w]) => ({ timeZone, ...w }))
  const at = new Date(now)
  // `n` is there to bind the instant before the windows' arrays (nowFirst).
  const rows = await db.$queryRaw<CandidateRow[]>(
    nowFirst(
      at,
      Prisma.sql`
        WITH ${P_TODAY}, n AS (SELECT ${at}::timestamptz AS now),
        w AS (SELECT * FROM unnest(${windows.map((w) => w.timeZone)}::text[], ${windows.map((w) => new Date(w.from))}::timestamptz[], ${windows.map((w) => new Date(w.to))}::timestamptz[]) AS w(time_zone, due_from, due_to))
        SELECT f.product_id, f.date::text AS date, p.time_zone, f.next_due_at, f.forced_at, f.last_slot_start, f.last_fetched_at
        FROM w JOIN p ON p.time_zone = w.time_zone JOIN day_fetch_state f ON f.product_id = p.id
        WHERE f.next_due_at >= w.due_from AND f.next_due_at < w.due_to AND f.next_due_at > ${AT_NOW}
          AND f.date - p.today BETWEEN ${REPHASE_OFFSETS.from}::int AND ${REPHASE_OFFSETS.to}::int
          AND f.last_outcome = 'ok' AND f.forced_at IS NULL AND ${FETCHABLE_TODAY}
          AND (f.claimed_until IS NULL OR f.claimed_until < ${AT_NOW})
        ORDER BY f.next_due_at, f.product_id, f.date
        LIMIT ${limit}`,
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
 * Claims the first pair of `ranked` (the planner's order) that is still due,
 * unclaimed and not locked by another instance, in one statement. Runs inside
 * the budget's transaction (dispatch): a place in the window and a pair are
 * taken together, at the moment of sending, or neither is. A pair marked
 * `early` may be claimed though not due (spare budget, see loadEarly and
 * rephase.ts), but only if nobody fetched it since it was listed. `skipped` is how
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
