import type pg from 'pg'
import type { PartnerSlot } from '../partner/schema.ts'
import { withTransaction } from '../db/transaction.ts'
import { countSlotChanges, isSoldOut } from '../changes/event.ts'
import { appendChangeEvent } from '../changes/log.ts'
import { summarize, toColumns } from './mapping.ts'
import { dayPrice, slotClientPrice } from '../availability/precompute.ts'

export interface DaySnapshot {
  productId: number
  date: string
  slots: PartnerSlot[]
  /** When the partner answered; an older answer never overwrites a newer one. */
  fetchedAt: Date
  /** When this day is due again (the planner decides); default: now. */
  nextDueAt?: Date
  /** Requests for "run now" made before this instant are satisfied by this fetch. */
  forcedBefore?: Date
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

type Queryable = Pick<pg.PoolClient, 'query'>

// Upserts skip rows whose content is unchanged, so a re-fetch of an unchanged
// day writes only its fetch state (fewer dead tuples, a cheaper steady state).
const UPSERT_SLOTS = `
INSERT INTO slot AS s (product_id, date, provider_slot_id, start_time, end_time, remaining, currency_code, variant_id, fetched_at,
                       price_final, price_original, price_currency, primary_pax_type)
SELECT $1, $2::date, t.psid, t.st, t.et, t.rem, t.cur, t.var, $9, t.pf, t.po, t.pc, t.pt
FROM unnest($3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::int[], $10::numeric[], $11::numeric[], $12::text[], $13::text[])
  AS t(psid, st, et, rem, cur, var, pf, po, pc, pt)
ON CONFLICT (product_id, date, provider_slot_id) DO UPDATE SET
  start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time, remaining = EXCLUDED.remaining,
  currency_code = EXCLUDED.currency_code, variant_id = EXCLUDED.variant_id, fetched_at = EXCLUDED.fetched_at,
  price_final = EXCLUDED.price_final, price_original = EXCLUDED.price_original, price_currency = EXCLUDED.price_currency,
  primary_pax_type = EXCLUDED.primary_pax_type
WHERE (s.start_time, s.end_time, s.remaining, s.currency_code, s.variant_id, s.price_final, s.price_original, s.price_currency, s.primary_pax_type)
  IS DISTINCT FROM (EXCLUDED.start_time, EXCLUDED.end_time, EXCLUDED.remaining, EXCLUDED.currency_code, EXCLUDED.variant_id,
                    EXCLUDED.price_final, EXCLUDED.price_original, EXCLUDED.price_currency, EXCLUDED.primary_pax_type)
RETURNING s.id::text, (xmax = 0) AS inserted`

const DELETE_SLOTS = `
DELETE FROM slot WHERE product_id = $1 AND date = $2::date AND NOT (provider_slot_id = ANY($3::text[]))`

const UPSERT_PAX = `
INSERT INTO pax_availability AS p (slot_id, type, name, description, is_primary, min, max, remaining, final_price, original_price, discount, currency_code)
SELECT s.id, t.type, t.name, t.descr, t.prim, t.mn, t.mx, t.rem, t.fin, t.orig, t.disc, t.cur
FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::int[], $9::int[], $10::int[], $11::numeric[], $12::numeric[], $13::numeric[], $14::text[])
  AS t(psid, type, name, descr, prim, mn, mx, rem, fin, orig, disc, cur)
JOIN slot s ON s.product_id = $1 AND s.date = $2::date AND s.provider_slot_id = t.psid
ON CONFLICT (slot_id, type) DO UPDATE SET
  name = EXCLUDED.name, description = EXCLUDED.description, is_primary = EXCLUDED.is_primary, min = EXCLUDED.min, max = EXCLUDED.max,
  remaining = EXCLUDED.remaining, final_price = EXCLUDED.final_price, original_price = EXCLUDED.original_price,
  discount = EXCLUDED.discount, currency_code = EXCLUDED.currency_code
WHERE (p.name, p.description, p.is_primary, p.min, p.max, p.remaining, p.final_price, p.original_price, p.discount, p.currency_code)
  IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, EXCLUDED.is_primary, EXCLUDED.min, EXCLUDED.max, EXCLUDED.remaining,
                    EXCLUDED.final_price, EXCLUDED.original_price, EXCLUDED.discount, EXCLUDED.currency_code)
RETURNING p.slot_id::text, (xmax = 0) AS inserted`

const DELETE_PAX = `
DELETE FROM pax_availability p USING slot s
WHERE p.slot_id = s.id AND s.product_id = $1 AND s.date = $2::date
  AND NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::text[]) AS k(psid, type) WHERE k.psid = s.provider_slot_id AND k.type = p.type)
RETURNING p.slot_id::text`

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
export async function writeDaySnapshot(pool: pg.Pool, snap: DaySnapshot): Promise<SnapshotResult> {
  return withTransaction(pool, (client) => writeInTransaction(client, snap))
}

/**
 * Keeps the product from being removed until this transaction ends, or says
 * it is gone. products.remove deletes the row (a FOR UPDATE lock), so it waits
 * for writers holding this lock, and a writer waiting behind a removal finds
 * no row once it commits: never a foreign-key error, never a write-back.
 */
async function holdProduct(c: Queryable, productId: number): Promise<boolean> {
  const { rowCount } = await c.query('SELECT 1 FROM product WHERE id = $1 FOR KEY SHARE', [productId])
  return (rowCount ?? 0) > 0
}

/**
 * Locks the day's fetch state; returns the last fetch and the seats stored
 * before this write (null: never fetched). The seats come from the locked
 * row itself (every write keeps `total_remaining` equal to its slots' sum),
 * so a writer that waited on the lock compares with what the previous writer
 * left, at no extra query.
 */
async function lockDay(c: Queryable, productId: number, date: string): Promise<{ lastFetchedAt: Date | null; remainingBefore: number | null }> {
  await c.query('INSERT INTO day_fetch_state (product_id, date) VALUES ($1, $2::date) ON CONFLICT DO NOTHING', [productId, date])
  const { rows } = await c.query<{ last_fetched_at: Date | null; total_remaining: number | null }>(
    'SELECT last_fetched_at, total_remaining FROM day_fetch_state WHERE product_id = $1 AND date = $2::date FOR UPDATE',
    [productId, date],
  )
  const r = rows[0]
  return { lastFetchedAt: r?.last_fetched_at ?? null, remainingBefore: r?.last_fetched_at ? r.total_remaining : null }
}

export async function writeInTransaction(c: Queryable, snap: DaySnapshot): Promise<SnapshotResult> {
  const { productId, date, fetchedAt } = snap
  const result: SnapshotResult = {
    changed: false, superseded: false, dropped: false, soldOut: false,
    slotsInserted: 0, slotsUpdated: 0, slotsDeleted: 0, paxInserted: 0, paxUpdated: 0, paxDeleted: 0,
  }
  if (!(await holdProduct(c, productId))) return { ...result, dropped: true }
  const stored = await lockDay(c, productId, date)
  if (stored.lastFetchedAt && stored.lastFetchedAt.getTime() > fetchedAt.getTime()) return { ...result, superseded: true }

  const cols = toColumns(snap.slots)
  // What reads need, from the same answer: the price rule runs here, once per write, never per request.
  const prices = snap.slots.map(slotClientPrice)
  const sc = cols.slots
  const pc = cols.pax
  const inserted: string[] = []
  const updated: string[] = []
  const paxTouched: string[] = []
  const del = await c.query(DELETE_SLOTS, [productId, date, sc.providerSlotId])
  result.slotsDeleted = del.rowCount ?? 0
  if (sc.providerSlotId.length) {
    const up = await c.query<{ id: string; inserted: boolean }>(UPSERT_SLOTS, [
      productId, date, sc.providerSlotId, sc.startTime, sc.endTime, sc.remaining, sc.currencyCode, sc.variantId, fetchedAt,
      prices.map((p) => p?.price.finalPrice ?? null), prices.map((p) => p?.price.originalPrice ?? null),
      prices.map((p) => p?.price.currencyCode ?? null), prices.map((p) => p?.primaryType ?? null),
    ])
    for (const r of up.rows) (r.inserted ? inserted : updated).push(r.id)
  }
  const delPax = await c.query<{ slot_id: string }>(DELETE_PAX, [productId, date, pc.providerSlotId, pc.type])
  result.paxDeleted = delPax.rowCount ?? 0
  for (const r of delPax.rows) paxTouched.push(r.slot_id)
  if (pc.type.length) {
    const up = await c.query<{ slot_id: string; inserted: boolean }>(UPSERT_PAX, [
      productId, date, pc.providerSlotId, pc.type, pc.name, pc.description, pc.isPrimary, pc.min, pc.max, pc.remaining,
      pc.finalPrice, pc.originalPrice, pc.discount, pc.currencyCode,
    ])
    for (const r of up.rows) {
      r.inserted ? result.paxInserted++ : result.paxUpdated++
      paxTouched.push(r.slot_id)
    }
  }
  result.slotsInserted = inserted.length
  result.slotsUpdated = updated.length
  result.changed = result.slotsInserted + result.slotsUpdated + result.slotsDeleted + result.paxInserted + result.paxUpdated + result.paxDeleted > 0

  const sum = summarize(snap.slots)
  const day = dayPrice(snap.slots, prices)
  // One statement for both rows: the summary changes with every write (its fetched_at), so it costs no extra round trip.
  await c.query(
    `WITH summary AS (
       INSERT INTO day_summary AS d (product_id, date, open, lowest_final_price, lowest_original_price, lowest_currency, slot_count, total_remaining, fetched_at)
       VALUES ($1, $2::date, $10, $11::numeric, $12::numeric, $13, $5, $7, $3)
       ON CONFLICT (product_id, date) DO UPDATE SET
         open = EXCLUDED.open, lowest_final_price = EXCLUDED.lowest_final_price, lowest_original_price = EXCLUDED.lowest_original_price,
         lowest_currency = EXCLUDED.lowest_currency, slot_count = EXCLUDED.slot_count, total_remaining = EXCLUDED.total_remaining,
         fetched_at = EXCLUDED.fetched_at)
     UPDATE day_fetch_state SET
       last_attempt_at = $3, last_fetched_at = $3, last_outcome = $4::fetch_outcome, slot_count = $5, last_slot_start = $6,
       total_remaining = $7, next_due_at = $8, consecutive_failures = 0, last_error = NULL,
       forced_at = CASE WHEN forced_at <= $9 THEN NULL ELSE forced_at END,
       claimed_by = NULL, claimed_until = NULL
     WHERE product_id = $1 AND date = $2::date`,
    [
      productId, date, fetchedAt, sum.slotCount ? 'ok' : 'empty', sum.slotCount, sum.lastSlotStart, sum.totalRemaining, snap.nextDueAt ?? fetchedAt, snap.forcedBefore ?? fetchedAt,
      day.open, day.lowest?.finalPrice ?? null, day.lowest?.originalPrice ?? null, day.lowest?.currencyCode ?? null,
    ],
  )
  if (result.changed) {
    // Last, so the change log's lock (held to commit) is held for as short as possible.
    const counts = countSlotChanges({ insertedSlotIds: inserted, updatedSlotIds: updated, deletedSlots: result.slotsDeleted, paxTouchedSlotIds: paxTouched })
    result.soldOut = isSoldOut(stored.remainingBefore, sum.totalRemaining)
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
  forcedBefore?: Date
}

/**
 * A failed or invalid fetch changes nothing but the day's fetch state. For a
 * product removed meanwhile nothing is written (`dropped: true`): the CTE
 * locks the product row first (see holdProduct), in the same statement.
 */
export async function recordFetchFailure(pool: Pick<pg.Pool, 'query'>, f: FetchFailure): Promise<{ dropped: boolean }> {
  const r = await pool.query(
    `WITH p AS (SELECT id FROM product WHERE id = $1 FOR KEY SHARE)
     INSERT INTO day_fetch_state AS d (product_id, date, last_attempt_at, last_outcome, last_error, consecutive_failures, next_due_at)
     SELECT p.id, $2::date, $3, $4::fetch_outcome, $5, CASE WHEN $4 = 'rate_limited' THEN 0 ELSE 1 END, $6 FROM p
     ON CONFLICT (product_id, date) DO UPDATE SET
       last_attempt_at = $3, last_outcome = $4::fetch_outcome, last_error = $5, next_due_at = $6,
       consecutive_failures = d.consecutive_failures + CASE WHEN $4 = 'rate_limited' THEN 0 ELSE 1 END,
       -- a "run now" was attempted; retrying it ahead of everything would starve the rest
       forced_at = CASE WHEN d.forced_at <= $7 THEN NULL ELSE d.forced_at END,
       claimed_by = NULL, claimed_until = NULL`,
    [f.productId, f.date, f.at, f.outcome, f.error.slice(0, 1000), f.nextDueAt, f.forcedBefore ?? f.at],
  )
  return { dropped: (r.rowCount ?? 0) === 0 }
}
