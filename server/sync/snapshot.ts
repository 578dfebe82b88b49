import { dayPrice, slotClientPrice, type SlotPrice } from '../availability/precompute.ts'
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

// Upserts skip rows whose content is unchanged, so a re-fetch of an unchanged
// day writes only its fetch state (fewer dead tuples, a cheaper steady state).
// Each statement takes the whole day as arrays (unnest): one statement per
// table, whatever the number of slots.
function upsertSlots(productId: number, date: string, fetchedAt: Date, sc: DayColumns['slots'], prices: readonly (SlotPrice | null)[]) {
  return Prisma.sql`
INSERT INTO slot AS s (product_id, date, provider_slot_id, start_time, end_time, remaining, currency_code, variant_id, fetched_at,
                       price_final, price_original, price_currency, primary_pax_type)
SELECT ${productId}::int, ${date}::date, t.psid, t.st, t.et, t.rem, t.cur, t.var, ${fetchedAt}::timestamptz, t.pf, t.po, t.pc, t.pt
FROM unnest(${sc.providerSlotId}::text[], ${sc.startTime}::text[], ${sc.endTime}::text[], ${sc.remaining}::int[], ${sc.currencyCode}::text[], ${sc.variantId}::int[],
            ${prices.map((p) => p?.price.finalPrice ?? null)}::numeric[], ${prices.map((p) => p?.price.originalPrice ?? null)}::numeric[],
            ${prices.map((p) => p?.price.currencyCode ?? null)}::text[], ${prices.map((p) => p?.primaryType ?? null)}::text[])
  AS t(psid, st, et, rem, cur, var, pf, po, pc, pt)
ON CONFLICT (product_id, date, provider_slot_id) DO UPDATE SET
  start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time, remaining = EXCLUDED.remaining,
  currency_code = EXCLUDED.currency_code, variant_id = EXCLUDED.variant_id, fetched_at = EXCLUDED.fetched_at,
  price_final = EXCLUDED.price_final, price_original = EXCLUDED.price_original, price_currency = EXCLUDED.price_currency,
  primary_pax_type = EXCLUDED.primary_pax_type
WHERE (s.start_time, s.end_time, s.remaining, s.currency_code, s.variant_id, s.price_final, s.price_original, s.price_currency, s.primary_pax_type)
  IS DISTINCT FROM (EXCLUDED.start_time, EXCLUDED.end_time, EXCLUDED.remaining, EXCLUDED.currency_code, EXCLUDED.variant_id,
                    EXCLUDED.price_final, EXCLUDED.price_original, EXCLUDED.price_currency, EXCLUDED.primary_pax_type)
RETURNING s.id::text AS id, (xmax = 0) AS inserted`
}

const deleteSlots = (productId: number, date: string, ids: string[]) => Prisma.sql`
DELETE FROM slot WHERE product_id = ${productId} AND date = ${date}::date AND NOT (provider_slot_id = ANY(${ids}::text[]))`

function upsertPax(productId: number, date: string, pc: DayColumns['pax']) {
  return Prisma.sql`
INSERT INTO pax_availability AS p (slot_id, type, name, description, is_primary, min, max, remaining, final_price, original_price, discount, currency_code)
SELECT s.id, t.type, t.name, t.descr, t.prim, t.mn, t.mx, t.rem, t.fin, t.orig, t.disc, t.cur
FROM unnest(${pc.providerSlotId}::text[], ${pc.type}::text[], ${pc.name}::text[], ${pc.description}::text[], ${pc.isPrimary}::bool[], ${pc.min}::int[], ${pc.max}::int[],
            ${pc.remaining}::int[], ${pc.finalPrice}::numeric[], ${pc.originalPrice}::numeric[], ${pc.discount}::numeric[], ${pc.currencyCode}::text[])
  AS t(psid, type, name, descr, prim, mn, mx, rem, fin, orig, disc, cur)
JOIN slot s ON s.product_id = ${productId} AND s.date = ${date}::date AND s.provider_slot_id = t.psid
ON CONFLICT (slot_id, type) DO UPDATE SET
  name = EXCLUDED.name, description = EXCLUDED.description, is_primary = EXCLUDED.is_primary, min = EXCLUDED.min, max = EXCLUDED.max,
  remaining = EXCLUDED.remaining, final_price = EXCLUDED.final_price, original_price = EXCLUDED.original_price,
  discount = EXCLUDED.discount, currency_code = EXCLUDED.currency_code
WHERE (p.name, p.description, p.is_primary, p.min, p.max, p.remaining, p.final_price, p.original_price, p.discount, p.currency_code)
  IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, EXCLUDED.is_primary, EXCLUDED.min, EXCLUDED.max, EXCLUDED.remaining,
                    EXCLUDED.final_price, EXCLUDED.original_price, EXCLUDED.discount, EXCLUDED.currency_code)
RETURNING p.slot_id::text AS slot_id, (xmax = 0) AS inserted`
}

const deletePax = (productId: number, date: string, pc: DayColumns['pax']) => Prisma.sql`
DELETE FROM pax_availability p USING slot s
WHERE p.slot_id = s.id AND s.product_id = ${productId} AND s.date = ${date}::date
  AND NOT EXISTS (SELECT 1 FROM unnest(${pc.providerSlotId}::text[], ${pc.type}::text[]) AS k(psid, type) WHERE k.psid = s.provider_slot_id AND k.type = p.type)
RETURNING p.slot_id::text AS slot_id`

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
 * Keeps the product from being removed until this transaction ends, or says
 * it is gone. products.remove deletes the row (a FOR UPDATE lock), so it waits
 * for writers holding this lock, and a writer waiting behind a removal finds
 * no row once it commits: never a foreign-key error, never a write-back.
 */
async function holdProduct(tx: Tx, productId: number): Promise<boolean> {
  const rows = await tx.$queryRaw<unknown[]>`SELECT 1 FROM product WHERE id = ${productId} FOR KEY SHARE`
  return rows.length > 0
}

/**
 * Locks the day's fetch state; returns the last fetch and the seats stored
 * before this write (null: never fetched). The seats come from the locked
 * row itself (every write keeps `total_remaining` equal to its slots' sum),
 * so a writer that waited on the lock compares with what the previous writer
 * left, at no extra query.
 */
async function lockDay(tx: Tx, productId: number, date: string): Promise<{ lastFetchedAt: Date | null; remainingBefore: number | null }> {
  await tx.$executeRaw`INSERT INTO day_fetch_state (product_id, date) VALUES (${productId}, ${date}::date) ON CONFLICT DO NOTHING`
  const rows = await tx.$queryRaw<{ last_fetched_at: Date | null; total_remaining: number | null }[]>`
    SELECT last_fetched_at, total_remaining FROM day_fetch_state WHERE product_id = ${productId} AND date = ${date}::date FOR UPDATE`
  const r = rows[0]
  return { lastFetchedAt: r?.last_fetched_at ?? null, remainingBefore: r?.last_fetched_at ? r.total_remaining : null }
}

/** The snapshot inside a transaction the caller opened (and commits). */
export async function writeInTransaction(c: Tx, snap: DaySnapshot): Promise<SnapshotResult> {
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
  result.slotsDeleted = await c.$executeRaw(deleteSlots(productId, date, sc.providerSlotId))
  if (sc.providerSlotId.length) {
    const up = await c.$queryRaw<{ id: string; inserted: boolean }[]>(upsertSlots(productId, date, fetchedAt, sc, prices))
    for (const r of up) (r.inserted ? inserted : updated).push(r.id)
  }
  const delPax = await c.$queryRaw<{ slot_id: string }[]>(deletePax(productId, date, pc))
  result.paxDeleted = delPax.length
  for (const r of delPax) paxTouched.push(r.slot_id)
  if (pc.type.length) {
    const up = await c.$queryRaw<{ slot_id: string; inserted: boolean }[]>(upsertPax(productId, date, pc))
    for (const r of up) {
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
  await c.$executeRaw`
    WITH summary AS (
      INSERT INTO day_summary AS d (product_id, date, open, lowest_final_price, lowest_original_price, lowest_currency, slot_count, total_remaining, fetched_at)
      VALUES (${productId}, ${date}::date, ${day.open}, ${day.lowest?.finalPrice ?? null}::numeric, ${day.lowest?.originalPrice ?? null}::numeric,
              ${day.lowest?.currencyCode ?? null}, ${sum.slotCount}, ${sum.totalRemaining}, ${fetchedAt}::timestamptz)
      ON CONFLICT (product_id, date) DO UPDATE SET
        open = EXCLUDED.open, lowest_final_price = EXCLUDED.lowest_final_price, lowest_original_price = EXCLUDED.lowest_original_price,
        lowest_currency = EXCLUDED.lowest_currency, slot_count = EXCLUDED.slot_count, total_remaining = EXCLUDED.total_remaining,
        fetched_at = EXCLUDED.fetched_at)
    UPDATE day_fetch_state SET
      last_attempt_at = ${fetchedAt}::timestamptz, last_fetched_at = ${fetchedAt}::timestamptz, last_outcome = ${sum.slotCount ? 'ok' : 'empty'}::fetch_outcome,
      slot_count = ${sum.slotCount}, last_slot_start = ${sum.lastSlotStart}, total_remaining = ${sum.totalRemaining},
      next_due_at = ${snap.nextDueAt ?? fetchedAt}::timestamptz, consecutive_failures = 0, last_error = NULL,
      forced_at = CASE WHEN forced_at <= ${snap.forcedBefore ?? fetchedAt}::timestamptz THEN NULL ELSE forced_at END,
      claimed_by = NULL, claimed_until = NULL
    WHERE product_id = ${productId} AND date = ${date}::date`
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
export async function recordFetchFailure(db: Pick<PrismaClient, '$executeRaw'>, f: FetchFailure): Promise<{ dropped: boolean }> {
  const at = f.at
  const forcedBefore = f.forcedBefore ?? f.at
  const n = await db.$executeRaw`
    WITH p AS (SELECT id FROM product WHERE id = ${f.productId} FOR KEY SHARE)
    INSERT INTO day_fetch_state AS d (product_id, date, last_attempt_at, last_outcome, last_error, consecutive_failures, next_due_at)
    SELECT p.id, ${f.date}::date, ${at}::timestamptz, ${f.outcome}::fetch_outcome, ${f.error.slice(0, 1000)},
           ${f.outcome === 'rate_limited' ? 0 : 1}::int, ${f.nextDueAt}::timestamptz FROM p
    ON CONFLICT (product_id, date) DO UPDATE SET
      last_attempt_at = EXCLUDED.last_attempt_at, last_outcome = EXCLUDED.last_outcome, last_error = EXCLUDED.last_error,
      next_due_at = EXCLUDED.next_due_at,
      -- a rate-limited attempt is not the day's failure: it does not count
      consecutive_failures = d.consecutive_failures + EXCLUDED.consecutive_failures,
      -- a "run now" was attempted; retrying it ahead of everything would starve the rest
      forced_at = CASE WHEN d.forced_at <= ${forcedBefore}::timestamptz THEN NULL ELSE d.forced_at END,
      claimed_by = NULL, claimed_until = NULL`
  return { dropped: n === 0 }
}
