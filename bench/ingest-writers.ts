/**
 * The two writers bench/ingest.ts sets against the snapshot writer
 * (server/sync/snapshot.ts): a naive per-row upsert as the baseline, and
 * COPY into temp tables plus one set-based merge as the ceiling. Both do
 * what the snapshot writer does around its writes (lock the day's fetch
 * state, delete what vanished, store each slot's client price, record the
 * fetch, the day's summary and its /slots text), so only the writing differs.
 */
import type pg from 'pg'
import type { PartnerSlot } from '../server/partner/schema.ts'
import type { DayColumns } from '../server/sync/mapping.ts'
import { dayPrice, daySlotsView, slotClientPrice, type SlotPrice } from '../server/availability/precompute.ts'

type Q = pg.PoolClient
export interface Snap {
  productId: number
  date: string
  slots: PartnerSlot[]
  fetchedAt: Date
}

// What every writer does around its slot and pax writes, as the snapshot
// writer does: lock the day's fetch state, and record the fetch at the end.
async function lockDay(c: Q, s: Snap) {
  await c.query('INSERT INTO day_fetch_state (product_id, date) VALUES ($1, $2::date) ON CONFLICT DO NOTHING', [s.productId, s.date])
  await c.query('SELECT last_fetched_at FROM day_fetch_state WHERE product_id = $1 AND date = $2::date FOR UPDATE', [s.productId, s.date])
}
async function recordFetch(c: Q, s: Snap, prices: readonly (SlotPrice | null)[]) {
  const day = dayPrice(s.slots, prices)
  const total = s.slots.reduce((n, x) => n + x.remaining, 0)
  await c.query(
    `UPDATE day_fetch_state SET last_attempt_at = $3, last_fetched_at = $3, last_outcome = 'ok', slot_count = $4, next_due_at = $3 WHERE product_id = $1 AND date = $2::date`,
    [s.productId, s.date, s.fetchedAt, s.slots.length],
  )
  await c.query(
    `INSERT INTO day_summary (product_id, date, open, lowest_final_price, lowest_original_price, lowest_currency, slot_count, total_remaining, fetched_at)
     VALUES ($1, $2::date, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (product_id, date) DO UPDATE SET open = EXCLUDED.open, lowest_final_price = EXCLUDED.lowest_final_price,
       lowest_original_price = EXCLUDED.lowest_original_price, lowest_currency = EXCLUDED.lowest_currency, slot_count = EXCLUDED.slot_count,
       total_remaining = EXCLUDED.total_remaining, fetched_at = EXCLUDED.fetched_at`,
    [
      s.productId,
      s.date,
      day.open,
      day.lowest?.finalPrice ?? null,
      day.lowest?.originalPrice ?? null,
      day.lowest?.currencyCode ?? null,
      s.slots.length,
      total,
      s.fetchedAt,
    ],
  )
  await c.query(
    `INSERT INTO day_slots_json (product_id, date, fetched_at, body) VALUES ($1, $2::date, $3, $4)
     ON CONFLICT (product_id, date) DO UPDATE SET fetched_at = EXCLUDED.fetched_at, body = EXCLUDED.body`,
    [s.productId, s.date, s.fetchedAt, JSON.stringify(daySlotsView(s.date, s.slots, prices))],
  )
}
/** The baseline: one upsert per slot and one per pax type, always writing. */
export async function naiveDay(c: Q, s: Snap): Promise<void> {
  await lockDay(c, s)
  const prices = s.slots.map(slotClientPrice)
  // Nothing vanishes in these scenarios; each writer still runs its deletes (one statement per table, as the snapshot writer does).
  const ids = s.slots.map((x) => x.providerSlotId)
  await c.query(`DELETE FROM slot WHERE product_id = $1 AND date = $2::date AND NOT (provider_slot_id = ANY($3::text[]))`, [s.productId, s.date, ids])
  await c.query(
    `DELETE FROM pax_availability p USING slot s WHERE p.slot_id = s.id AND s.product_id = $1 AND s.date = $2::date
       AND NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::text[]) AS k(psid, type) WHERE k.psid = s.provider_slot_id AND k.type = p.type)`,
    [s.productId, s.date, s.slots.flatMap((x) => x.paxAvailability.map(() => x.providerSlotId)), s.slots.flatMap((x) => x.paxAvailability.map((p) => p.type))],
  )
  for (const [i, slot] of s.slots.entries()) {
    const price = prices[i]
    const { rows } = await c.query<{ id: string }>(
      `INSERT INTO slot (product_id, date, provider_slot_id, start_time, end_time, remaining, currency_code, variant_id, fetched_at,
                         price_final, price_original, price_currency, primary_pax_type)
       VALUES ($1, $2::date, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (product_id, date, provider_slot_id) DO UPDATE SET start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time,
         remaining = EXCLUDED.remaining, currency_code = EXCLUDED.currency_code, variant_id = EXCLUDED.variant_id, fetched_at = EXCLUDED.fetched_at,
         price_final = EXCLUDED.price_final, price_original = EXCLUDED.price_original, price_currency = EXCLUDED.price_currency,
         primary_pax_type = EXCLUDED.primary_pax_type
       RETURNING id`,
      [
        s.productId,
        s.date,
        slot.providerSlotId,
        slot.startTime,
        slot.endTime,
        slot.remaining,
        slot.currencyCode,
        slot.variantId,
        s.fetchedAt,
        price?.price.finalPrice ?? null,
        price?.price.originalPrice ?? null,
        price?.price.currencyCode ?? null,
        price?.primaryType ?? null,
      ],
    )
    for (const p of slot.paxAvailability) {
      await c.query(
        `INSERT INTO pax_availability (slot_id, type, name, description, is_primary, min, max, remaining, final_price, original_price, discount, currency_code)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (slot_id, type) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, is_primary = EXCLUDED.is_primary,
           min = EXCLUDED.min, max = EXCLUDED.max, remaining = EXCLUDED.remaining, final_price = EXCLUDED.final_price,
           original_price = EXCLUDED.original_price, discount = EXCLUDED.discount, currency_code = EXCLUDED.currency_code`,
        [
          rows[0]!.id,
          p.type,
          p.name,
          p.description,
          p.isPrimary,
          p.min,
          p.max,
          p.remaining,
          p.price.finalPrice,
          p.price.originalPrice,
          p.price.discount,
          p.price.currencyCode,
        ],
      )
    }
  }
  await recordFetch(c, s, prices)
}

/** COPY's text format: tab-separated, backslash escapes, \N for null. */
function copyText(columns: unknown[][]): string {
  const esc = (v: unknown) =>
    v === null || v === undefined
      ? '\\N'
      : typeof v === 'boolean'
        ? v
          ? 't'
          : 'f'
        : String(v).replace(/[\\\t\n\r]/g, (ch) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[ch]!)
  const n = columns[0]?.length ?? 0
  let out = ''
  for (let i = 0; i < n; i++) out += `${columns.map((col) => esc(col[i])).join('\t')}\n`
  return out
}

/**
 * COPY FROM STDIN over pg's own connection (pg-copy-streams is not a
 * dependency; this is the few messages it sends): a query object pg runs
 * like any other, answering the server's CopyInResponse with the data.
 */
function copyIn(c: Q, sql: string, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = (err?: Error) => (err ? reject(err) : resolve())
    const finish = (err?: Error) => {
      done(err)
      done = () => {}
    }
    const q = {
      submit: (con: { query(text: string): void }) => con.query(sql),
      handleCopyInResponse(con: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }) {
        if (data) con.sendCopyFromChunk(Buffer.from(data))
        con.endCopyFrom()
      },
      handleError: (err: Error) => finish(err),
      handleReadyForQuery: () => finish(),
      handleCommandComplete() {},
      handleRowDescription() {},
      handleDataRow() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
    }
    c.query(q as unknown as pg.Submittable)
  })
}

const withTempTables = new WeakSet<Q>()

/** The ceiling: COPY both tables' rows into temp tables, then the same set-based merge. */
export async function copyDay(c: Q, s: Snap, cols: DayColumns): Promise<void> {
  if (!withTempTables.has(c)) {
    await c.query(
      `CREATE TEMP TABLE in_slot (psid text, st text, et text, rem int, cur text, var int, pf numeric, po numeric, pc text, pt text) ON COMMIT DELETE ROWS`,
    )
    await c.query(
      `CREATE TEMP TABLE in_pax (psid text, type text, name text, descr text, prim bool, mn int, mx int, rem int, fin numeric, orig numeric, disc numeric, cur text) ON COMMIT DELETE ROWS`,
    )
    withTempTables.add(c)
  }
  await lockDay(c, s)
  const prices = s.slots.map(slotClientPrice)
  const sc = cols.slots
  const pc = cols.pax
  await copyIn(
    c,
    'COPY in_slot FROM STDIN',
    copyText([
      sc.providerSlotId,
      sc.startTime,
      sc.endTime,
      sc.remaining,
      sc.currencyCode,
      sc.variantId,
      prices.map((p) => p?.price.finalPrice),
      prices.map((p) => p?.price.originalPrice),
      prices.map((p) => p?.price.currencyCode),
      prices.map((p) => p?.primaryType),
    ]),
  )
  await copyIn(
    c,
    'COPY in_pax FROM STDIN',
    copyText([
      pc.providerSlotId,
      pc.type,
      pc.name,
      pc.description,
      pc.isPrimary,
      pc.min,
      pc.max,
      pc.remaining,
      pc.finalPrice,
      pc.originalPrice,
      pc.discount,
      pc.currencyCode,
    ]),
  )
  await c.query(`DELETE FROM slot WHERE product_id = $1 AND date = $2::date AND provider_slot_id NOT IN (SELECT psid FROM in_slot)`, [s.productId, s.date])
  await c.query(
    `DELETE FROM pax_availability p USING slot s WHERE p.slot_id = s.id AND s.product_id = $1 AND s.date = $2::date
       AND NOT EXISTS (SELECT 1 FROM in_pax k WHERE k.psid = s.provider_slot_id AND k.type = p.type)`,
    [s.productId, s.date],
  )
  await c.query(
    `INSERT INTO slot AS s (product_id, date, provider_slot_id, start_time, end_time, remaining, currency_code, variant_id, fetched_at,
                            price_final, price_original, price_currency, primary_pax_type)
     SELECT $1, $2::date, psid, st, et, rem, cur, var, $3, pf, po, pc, pt FROM in_slot
     ON CONFLICT (product_id, date, provider_slot_id) DO UPDATE SET start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time,
       remaining = EXCLUDED.remaining, currency_code = EXCLUDED.currency_code, variant_id = EXCLUDED.variant_id, fetched_at = EXCLUDED.fetched_at,
       price_final = EXCLUDED.price_final, price_original = EXCLUDED.price_original, price_currency = EXCLUDED.price_currency,
       primary_pax_type = EXCLUDED.primary_pax_type
     WHERE (s.start_time, s.end_time, s.remaining, s.currency_code, s.variant_id, s.price_final, s.price_original, s.price_currency, s.primary_pax_type)
       IS DISTINCT FROM (EXCLUDED.start_time, EXCLUDED.end_time, EXCLUDED.remaining, EXCLUDED.currency_code, EXCLUDED.variant_id,
                         EXCLUDED.price_final, EXCLUDED.price_original, EXCLUDED.price_currency, EXCLUDED.primary_pax_type)`,
    [s.productId, s.date, s.fetchedAt],
  )
  await c.query(
    `INSERT INTO pax_availability AS p (slot_id, type, name, description, is_primary, min, max, remaining, final_price, original_price, discount, currency_code)
     SELECT sl.id, t.type, t.name, t.descr, t.prim, t.mn, t.mx, t.rem, t.fin, t.orig, t.disc, t.cur
     FROM in_pax t JOIN slot sl ON sl.product_id = $1 AND sl.date = $2::date AND sl.provider_slot_id = t.psid
     ON CONFLICT (slot_id, type) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, is_primary = EXCLUDED.is_primary,
       min = EXCLUDED.min, max = EXCLUDED.max, remaining = EXCLUDED.remaining, final_price = EXCLUDED.final_price,
       original_price = EXCLUDED.original_price, discount = EXCLUDED.discount, currency_code = EXCLUDED.currency_code
     WHERE (p.name, p.description, p.is_primary, p.min, p.max, p.remaining, p.final_price, p.original_price, p.discount, p.currency_code)
       IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, EXCLUDED.is_primary, EXCLUDED.min, EXCLUDED.max, EXCLUDED.remaining,
                         EXCLUDED.final_price, EXCLUDED.original_price, EXCLUDED.discount, EXCLUDED.currency_code)`,
    [s.productId, s.date],
  )
  await recordFetch(c, s, prices)
}
