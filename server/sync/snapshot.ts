import { dayPrice, daySlotsView, slotClientPrice, type SlotPrice } from '../availability/precompute.ts'
import { countSlotChanges, isSoldOut } from '../changes/event.ts'
import { appendChangeEvent } from '../changes/log.ts'
import { Prisma, type PrismaClient } from '../db/generated/client.ts'
import type { PartnerSlot } from '../partner/schema.ts'
import { summarize, toColumns, type DayColumns } from './mapping.ts'

type Tx = Prisma.TransactionClient

export interface DaySnapshot {
  productId: number
  date: string
  slots: PartnerSlot[]
  /** When the partner answered; an older answer never overwrites a newer one. */
  fetchedAt: Date
  /** When this day is due again (policy/deadline.ts); default: now. */
  nextDueAt?: Date
  /** Why (policy/deadline.ts DueReason); default: its tier. */
  dueReason?: string
  /** Requests for "run now" made before this instant are satisfied by this fetch. */
  forcedBefore?: Date
  /** Fetched by a live check (sync/live.ts): sync/explain says so. */
  live?: boolean
}

export interface SnapshotResult {
  /** False when nothing stored differed from the answer (or the answer was older than what is stored). */
  changed: boolean
  /** True when a newer answer was already stored: this one was dropped. */
  superseded: boolean
  /** True when the product was removed meanwhile: nothing was written. */
  dropped: boolean
  /** The change event appended for this write (only when stored data changed). */
  eventId?: number
  soldOut: boolean
  slotsInserted: number
  slotsUpdated: number
  slotsDeleted: number
  paxInserted: number
  paxUpdated: number
  paxDeleted: number
}

// Upserts skip rows whose content is unchanged, so a re-fetch of an unchanged
// day writes only its fetch state and summary (fewer dead tuples, a cheaper
// steady state). Every table's delete and upsert, the summary, the day's
// /slots text and the fetch state are data-modifying CTEs of one statement: through Prisma each
// statement costs a round trip plus its own overhead, so the day costs one,
// whatever the number of slots. The day goes in as two JSON texts (slots,
// pax) read with json_to_recordset: Prisma serializes array parameters
// element by element (~5x pg's cost for a 100-slot day), a string it passes as is.
//
// All CTEs share one snapshot, so two things are spelled out: pax rows join
// the slots of the day as stored before this statement plus the slots this
// statement inserted (RETURNING), and the pax delete counts only the pax of
// kept slots (the pax of a vanished slot go with it, as "slot removed").
// Anti-joins are NOT IN, which Postgres hashes whatever its row estimates for
// json_to_recordset (a fixed 100): NOT EXISTS planned as a nested loop once
// the tables grew, and took seconds at 1,000 slots.
function writeDay(snap: DaySnapshot, cols: DayColumns, prices: readonly (SlotPrice | null)[]) {
  const { productId, date, fetchedAt } = snap
  const sc = cols.slots
  const pc = cols.pax
  const sum = summarize(snap.slots)
  const day = dayPrice(snap.slots, prices)
  // /slots' answer for the day, sent as this text by every read until the next write.
  const view = JSON.stringify(daySlotsView(date, snap.slots, prices))
  const slotRows = JSON.stringify(
    sc.providerSlotId.map((psid, i) => ({
      psid,
      st: sc.startTime[i],
      et: sc.endTime[i],
      rem: sc.remaining[i],
      cur: sc.currencyCode[i],
      var: sc.variantId[i],
      pf: prices[i]?.price.finalPrice ?? null,
      po: prices[i]?.price.originalPrice ?? null,
      pc: prices[i]?.price.currencyCode ?? null,
      pt: prices[i]?.primaryType ?? null,
    })),
  )
  const paxRows = JSON.stringify(
    pc.providerSlotId.map((psid, i) => ({
      psid,
      type: pc.type[i],
      name: pc.name[i],
      descr: pc.description[i],
      prim: pc.isPrimary[i],
      mn: pc.min[i],
      mx: pc.max[i],
      rem: pc.remaining[i],
      fin: pc.finalPrice[i],
      orig: pc.originalPrice[i],
      disc: pc.discount[i],
      cur: pc.currencyCode[i],
    })),
  )
  return Prisma.sql`
WITH t AS MATERIALIZED (
  SELECT * FROM json_to_recordset(${slotRows}::json)
    AS t(psid text, st text, et text, rem int, cur text, var int, pf numeric, po numeric, pc text, pt text)
), tp AS MATERIALIZED (
  SELECT * FROM json_to_recordset(${paxRows}::json)
    AS t(psid text, type text, name text, descr text, prim bool, mn int, mx int, rem int, fin numeric, orig numeric, disc numeric, cur text)
), ds AS (
  DELETE FROM slot WHERE product_id = ${productId} AND date = ${date}::date AND provider_slot_id NOT IN (SELECT psid FROM t)
  RETURNING 1
), us AS (
  INSERT INTO slot AS s (product_id, date, provider_slot_id, start_time, end_time, remaining, currency_code, variant_id, fetched_at,
                         price_final, price_original, price_currency, primary_pax_type)
  SELECT ${productId}::int, ${date}::date, t.psid, t.st, t.et, t.rem, t.cur, t.var, ${fetchedAt}::timestamptz, t.pf, t.po, t.pc, t.pt
  FROM t
  ON CONFLICT (product_id, date, provider_slot_id) DO UPDATE SET
    start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time, remaining = EXCLUDED.remaining,
    currency_code = EXCLUDED.currency_code, variant_id = EXCLUDED.variant_id, fetched_at = EXCLUDED.fetched_at,
    price_final = EXCLUDED.price_final, price_original = EXCLUDED.price_original, price_currency = EXCLUDED.price_currency,
    primary_pax_type = EXCLUDED.primary_pax_type
  WHERE (s.start_time, s.end_time, s.remaining, s.currency_code, s.variant_id, s.price_final, s.price_original, s.price_currency, s.primary_pax_type)
    IS DISTINCT FROM (EXCLUDED.start_time, EXCLUDED.end_time, EXCLUDED.remaining, EXCLUDED.currency_code, EXCLUDED.variant_id,
                      EXCLUDED.price_final, EXCLUDED.price_original, EXCLUDED.price_currency, EXCLUDED.primary_pax_type)
  RETURNING s.id, s.provider_slot_id AS psid, (xmax = 0) AS inserted
), day_slots AS (
  SELECT psid, id FROM us WHERE inserted
  UNION ALL
  SELECT provider_slot_id, id FROM slot WHERE product_id = ${productId} AND date = ${date}::date
), dp AS (
  DELETE FROM pax_availability p USING slot s
  WHERE p.slot_id = s.id AND s.product_id = ${productId} AND s.date = ${date}::date
    AND (s.provider_slot_id, p.type) NOT IN (SELECT psid, type FROM tp)
  RETURNING p.slot_id, s.provider_slot_id AS psid
), up AS (
  INSERT INTO pax_availability AS p (slot_id, type, name, description, is_primary, min, max, remaining, final_price, original_price, discount, currency_code)
  SELECT s.id, t.type, t.name, t.descr, t.prim, t.mn, t.mx, t.rem, t.fin, t.orig, t.disc, t.cur
  FROM tp t JOIN day_slots s ON s.psid = t.psid
  ON CONFLICT (slot_id, type) DO UPDATE SET
    name = EXCLUDED.name, description = EXCLUDED.description, is_primary = EXCLUDED.is_primary, min = EXCLUDED.min, max = EXCLUDED.max,
    remaining = EXCLUDED.remaining, final_price = EXCLUDED.final_price, original_price = EXCLUDED.original_price,
    discount = EXCLUDED.discount, currency_code = EXCLUDED.currency_code
  WHERE (p.name, p.description, p.is_primary, p.min, p.max, p.remaining, p.final_price, p.original_price, p.discount, p.currency_code)
    IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, EXCLUDED.is_primary, EXCLUDED.min, EXCLUDED.max, EXCLUDED.remaining,
                      EXCLUDED.final_price, EXCLUDED.original_price, EXCLUDED.discount, EXCLUDED.currency_code)
  RETURNING p.slot_id, (xmax = 0) AS inserted
), summary AS (
  INSERT INTO day_summary AS d (product_id, date, open, lowest_final_price, lowest_original_price, lowest_currency, slot_count, total_remaining, fetched_at)
  VALUES (${productId}, ${date}::date, ${day.open}, ${day.lowest?.finalPrice ?? null}::numeric, ${day.lowest?.originalPrice ?? null}::numeric,
          ${day.lowest?.currencyCode ?? null}, ${sum.slotCount}, ${sum.totalRemaining}, ${fetchedAt}::timestamptz)
  ON CONFLICT (product_id, date) DO UPDATE SET
    open = EXCLUDED.open, lowest_final_price = EXCLUDED.lowest_final_price, lowest_original_price = EXCLUDED.lowest_original_price,
    lowest_currency = EXCLUDED.lowest_currency, slot_count = EXCLUDED.slot_count, total_remaining = EXCLUDED.total_remaining,
    fetched_at = EXCLUDED.fetched_at
), view AS (
  INSERT INTO day_slots_json AS v (product_id, date, fetched_at, body) VALUES (${productId}, ${date}::date, ${fetchedAt}::timestamptz, ${view})
  ON CONFLICT (product_id, date) DO UPDATE SET fetched_at = EXCLUDED.fetched_at, body = EXCLUDED.body
), fetch_state AS (
  UPDATE day_fetch_state SET
    last_attempt_at = ${fetchedAt}::timestamptz, last_fetched_at = ${fetchedAt}::timestamptz, last_outcome = ${sum.slotCount ? 'ok' : 'empty'}::fetch_outcome,
    slot_count = ${sum.slotCount}, last_slot_start = ${sum.lastSlotStart}, total_remaining = ${sum.totalRemaining},
    next_due_at = ${snap.nextDueAt ?? fetchedAt}::timestamptz, due_reason = ${snap.dueReason ?? 'tier'}, consecutive_failures = 0, last_error = NULL,
    forced_at = CASE WHEN forced_at <= ${snap.forcedBefore ?? fetchedAt}::timestamptz THEN NULL ELSE forced_at END,
    claimed_by = NULL, claimed_until = NULL, fetched_live = ${snap.live === true}
  WHERE product_id = ${productId} AND date = ${date}::date
)
SELECT (SELECT count(*) FROM ds)::int AS slots_deleted,
       ARRAY(SELECT id::text FROM us WHERE inserted) AS inserted,
       ARRAY(SELECT id::text FROM us WHERE NOT inserted) AS updated,
       (SELECT count(*) FROM dp WHERE psid IN (SELECT psid FROM t))::int AS pax_deleted,
       (SELECT count(*) FROM up WHERE inserted)::int AS pax_inserted,
       (SELECT count(*) FROM up WHERE NOT inserted)::int AS pax_updated,
       ARRAY(SELECT slot_id::text FROM dp WHERE psid IN (SELECT psid FROM t) UNION ALL SELECT slot_id::text FROM up) AS pax_touched`
}

interface WriteCounts {
  slots_deleted: number
  inserted: string[]
  updated: string[]
  pax_deleted: number
  pax_inserted: number
  pax_updated: number
  pax_touched: string[]
}

/**
 * A day's write holds row locks and the change log's lock until commit; on a
 * loaded machine Prisma's default 5 s budget cut healthy writes short. Waiting
 * for a connection is bounded separately, so a starved pool fails fast-ish.
 */
export const SNAPSHOT_TX = { maxWait: 10_000, timeout: 30_000 } as const

/**
 * Makes the stored day equal the partner's answer, in one transaction:
 * upsert slots (with their client price) and pax set-based, delete what
 * vanished, record the fetch and the day's summary for reads, and when
 * stored data changed append a change event (and NOTIFY).
 *
 * Concurrent writers of the same day queue on its fetch-state row lock; the
 * later one sees what the first wrote, and an answer older than the stored
 * one is dropped, so racing runs, instances or retries converge on the
 * newest answer and never hit a unique-constraint error.
 *
 * An answer for a product removed meanwhile (products.remove while the
 * request was in flight) is dropped: `dropped: true`, nothing written.
 */
export async function writeDaySnapshot(db: Pick<PrismaClient, '$transaction'>, snap: DaySnapshot): Promise<SnapshotResult> {
  return db.$transaction((tx) => writeInTransaction(tx, snap), SNAPSHOT_TX)
}

/**
 * Holds the product and locks the day's fetch state, in one statement;
 * returns the last fetch and the seats stored before this write
 * (lastFetchedAt null: never fetched), or null when the product is gone.
 *
 * The product's KEY SHARE lock keeps it from being removed until this
 * transaction ends: products.remove deletes the row (a FOR UPDATE lock), so
 * it waits for writers holding this lock, and a writer waiting behind a
 * removal finds no row once it commits: never a foreign-key error, never a
 * write-back.
 *
 * The no-op DO UPDATE locks the fetch-state row whether it was there or not,
 * and RETURNING gives the newest committed version of it even when this
 * writer had to wait for another one (a plain SELECT in the same statement
 * would see only this statement's snapshot). The seats come from that row
 * (every write keeps `total_remaining` equal to its slots' sum), so a writer
 * that waited compares with what the previous writer left, at no extra query.
 */
async function holdDay(tx: Tx, productId: number, date: string): Promise<{ lastFetchedAt: Date | null; remainingBefore: number | null } | null> {
  const rows = await tx.$queryRaw<{ last_fetched_at: Date | null; total_remaining: number | null }[]>`
    WITH p AS (SELECT id FROM product WHERE id = ${productId} FOR KEY SHARE)
    INSERT INTO day_fetch_state AS d (product_id, date) SELECT p.id, ${date}::date FROM p
    ON CONFLICT (product_id, date) DO UPDATE SET last_fetched_at = d.last_fetched_at
    RETURNING d.last_fetched_at, d.total_remaining`
  const r = rows[0]
  if (!r) return null
  return { lastFetchedAt: r.last_fetched_at, remainingBefore: r.last_fetched_at ? r.total_remaining : null }
}

/** The snapshot inside a transaction the caller opened (and commits). */
export async function writeInTransaction(c: Tx, snap: DaySnapshot): Promise<SnapshotResult> {
  const { productId, date, fetchedAt } = snap
  const result: SnapshotResult = {
    changed: false,
    superseded: false,
    dropped: false,
    soldOut: false,
    slotsInserted: 0,
    slotsUpdated: 0,
    slotsDeleted: 0,
    paxInserted: 0,
    paxUpdated: 0,
    paxDeleted: 0,
  }
  const stored = await holdDay(c, productId, date)
  if (!stored) return { ...result, dropped: true }
  if (stored.lastFetchedAt && stored.lastFetchedAt.getTime() > fetchedAt.getTime()) return { ...result, superseded: true }

  // What reads need, from the same answer: the price rule runs here, once per write, never per request.
  const prices = snap.slots.map(slotClientPrice)
  const [w] = await c.$queryRaw<WriteCounts[]>(writeDay(snap, toColumns(snap.slots), prices))
  result.slotsInserted = w!.inserted.length
  result.slotsUpdated = w!.updated.length
  result.slotsDeleted = w!.slots_deleted
  result.paxInserted = w!.pax_inserted
  result.paxUpdated = w!.pax_updated
  result.paxDeleted = w!.pax_deleted
  result.changed = result.slotsInserted + result.slotsUpdated + result.slotsDeleted + result.paxInserted + result.paxUpdated + result.paxDeleted > 0
  if (result.changed) {
    // Last, so the change log's lock (held to commit) is held for as short as possible.
    const counts = countSlotChanges({
      insertedSlotIds: w!.inserted,
      updatedSlotIds: w!.updated,
      deletedSlots: result.slotsDeleted,
      paxTouchedSlotIds: w!.pax_touched,
    })
    result.soldOut = isSoldOut(stored.remainingBefore, summarize(snap.slots).totalRemaining)
    result.eventId = await appendChangeEvent(c, { productId, date, fetchedAt, soldOut: result.soldOut, ...counts })
  }
  return result
}

export interface FetchFailure {
  productId: number
  date: string
  at: Date
  outcome: 'invalid' | 'error' | 'rate_limited'
  error: string
  nextDueAt: Date
  /** Why (policy/deadline.ts DueReason); default: the outcome's backoff. */
  dueReason?: string
  forcedBefore?: Date
}

/**
 * A failed or invalid fetch changes nothing but the day's fetch state. For a
 * product removed meanwhile nothing is written (`dropped: true`): the CTE
 * locks the product row first (see holdDay), in the same statement.
 */
export async function recordFetchFailure(db: Pick<PrismaClient, '$executeRaw'>, f: FetchFailure): Promise<{ dropped: boolean }> {
  const at = f.at
  const forcedBefore = f.forcedBefore ?? f.at
  const n = await db.$executeRaw`
    WITH p AS (SELECT id FROM product WHERE id = ${f.productId} FOR KEY SHARE)
    INSERT INTO day_fetch_state AS d (product_id, date, last_attempt_at, last_outcome, last_error, consecutive_failures, next_due_at, due_reason)
    SELECT p.id, ${f.date}::date, ${at}::timestamptz, ${f.outcome}::fetch_outcome, ${f.error.slice(0, 1000)},
           ${f.outcome === 'rate_limited' ? 0 : 1}::int, ${f.nextDueAt}::timestamptz, ${f.dueReason ?? (f.outcome === 'rate_limited' ? 'rate_limited' : 'backoff')} FROM p
    ON CONFLICT (product_id, date) DO UPDATE SET
      last_attempt_at = EXCLUDED.last_attempt_at, last_outcome = EXCLUDED.last_outcome, last_error = EXCLUDED.last_error,
      next_due_at = EXCLUDED.next_due_at, due_reason = EXCLUDED.due_reason,
      -- a rate-limited attempt is not the day's failure: it does not count
      consecutive_failures = d.consecutive_failures + EXCLUDED.consecutive_failures,
      -- a "run now" was attempted; retrying it ahead of everything would starve the rest
      forced_at = CASE WHEN d.forced_at <= ${forcedBefore}::timestamptz THEN NULL ELSE d.forced_at END,
      claimed_by = NULL, claimed_until = NULL`
  return { dropped: n === 0 }
}
