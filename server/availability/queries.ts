import { Prisma, type Db } from '../db/client.ts'

/**
 * The read side of availability: one statement per answer. /slots and
 * /dates get their answer as JSON text (stored by the snapshot writer, or
 * built by the statement) and send it as is; the range read (OCTO) gets
 * dates as text (no JS Date for a calendar day) and money as numeric text.
 */
// Each statement starts with a comment naming it: how it shows in
// pg_stat_statements, and how tests count the statements a read costs.
type Queryable = Pick<Db, '$queryRaw'>

export interface PaxRow {
  type: string
  name: string
  description: string
  isPrimary: boolean
  min: number
  max: number
  remaining: number
  finalPrice: string
  originalPrice: string
  currencyCode: string
}

export interface SlotRow {
  startTime: string
  endTime: string
  providerSlotId: string
  remaining: number
  pax: PaxRow[]
}

export interface DayRow {
  timeZone: string
  lastFetchedAt: Date | null
  /** The day's `slots` as JSON text, stored by the snapshot writer; null for a day never fetched. */
  body: string | null
}

// Two primary-key lookups, the product row and the day's stored answer
// (day_slots_json, built by the snapshot writer when it wrote the day), in
// the PL/pgSQL function availability_day (migration
// 20261130090000_read_functions) so that Postgres plans them once per
// connection, not on every read. Nothing is joined, aggregated or serialized
// per read. An unknown product is a row whose time zone is null.
const daySql = (productId: number, date: string) => Prisma.sql`/* availability_day */
SELECT tz AS "timeZone", fetched_at AS "lastFetchedAt", body FROM availability_day(${productId}::int, ${date}::date)`

export async function loadDay(db: Queryable, productId: number, date: string): Promise<DayRow | undefined> {
  const rows = await db.$queryRaw<(Omit<DayRow, 'timeZone'> & { timeZone: string | null })[]>(daySql(productId, date))
  const row = rows[0]
  return row?.timeZone == null ? undefined : (row as DayRow)
}

export interface DatesRow {
  timeZone: string
  /** Open days from `from` to `to`, ascending, as the JSON text of /dates' `dates` (cut it with cutDates). */
  dates: string
  /** Every fetched day from `from` to `to` with its fetch time, "YYYY-MM-DD:<epoch ms>" comma-separated (coverage.ts reads it). */
  fetched: string
}

// The product's time zone, its open days and which days were fetched when, in
// one call: a range scan of the summary's primary key, each day's entry built as text in the same pass
// (availability_dates, migration 20261130090000_read_functions: planned once
// per connection). The caller asks for a window a day wider on each side than
// any zone's horizon and cuts it to the product's own days, so "today" stays
// decided in one place (calendar/horizon.ts). One aggregate over the wide
// window: three FILTERed ones (one per possible horizon) cost Postgres twice as much.
const datesSql = (productId: number, from: string, to: string) => Prisma.sql`/* availability_dates */
SELECT tz AS "timeZone", dates, fetched FROM availability_dates(${productId}::int, ${from}::date, ${to}::date)`

export async function loadOpenDays(db: Queryable, productId: number, from: string, to: string): Promise<DatesRow | undefined> {
  const rows = await db.$queryRaw<{ timeZone: string | null; dates: string; fetched: string }[]>(datesSql(productId, from, to))
  const row = rows[0]
  return row?.timeZone == null ? undefined : (row as DatesRow)
}

const ENTRY = '{"date":"'

/** The entries of a datesSql text from `from` to `to` (inclusive), as JSON text: a slice of it, never parsed. */
export function cutDates(text: string, from: string, to: string): string {
  let start = -1
  let end = text.length - 1 // the closing bracket
  for (let at = text.indexOf(ENTRY); at !== -1; at = text.indexOf(ENTRY, at + ENTRY.length)) {
    const date = text.slice(at + ENTRY.length, at + ENTRY.length + 10)
    if (start === -1 && date >= from) start = at
    if (date > to) {
      end = at - 1 // the comma before it
      break
    }
  }
  return start === -1 || start >= end ? '[]' : `[${text.slice(start, end)}]`
}

export interface RangeSlotRow extends SlotRow {
  date: string
}

export interface RangeRow {
  timeZone: string
  /** Every stored slot of the range, ordered by date, then as a day's slots are (daySql). */
  slots: RangeSlotRow[]
  /** The oldest fetch among the range's fetched days (epoch ms); null when none was fetched (OCTO's Slotsync-Fetched-At). */
  oldestFetchedAt: number | null
}

// Many days of a product in one round trip: a 60-day OCTO calendar is one
// query, not 60. Flat rows (one per pax type, grouped here) rather than the
// nested json_agg of daySql: for 60 days that was ~3x slower to build and
// parse. The LEFT JOINs keep the product row when it has no slots; removed
// (inactive) products have no row at all.
const rangeSql = (productId: number, from: string, to: string) => Prisma.sql`/* availability_range */
SELECT p.time_zone AS tz,
       (SELECT floor(extract(epoch FROM min(d.fetched_at)) * 1000)::bigint FROM day_summary d
        WHERE d.product_id = p.id AND d.date BETWEEN ${from}::date AND ${to}::date) AS oldest,
       s.date::text AS date, s.start_time AS st, s.end_time AS et, s.provider_slot_id AS psid, s.remaining AS rem,
       pa.type, pa.name, pa.description AS descr, pa.is_primary AS prim, pa.min, pa.max, pa.remaining AS prem,
       pa.final_price::text AS fin, pa.original_price::text AS orig, pa.currency_code AS cur
FROM product p
LEFT JOIN slot s ON s.product_id = p.id AND s.date BETWEEN ${from}::date AND ${to}::date
LEFT JOIN pax_availability pa ON pa.slot_id = s.id
WHERE p.id = ${productId} AND p.active
ORDER BY s.date, s.start_time COLLATE "C", s.provider_slot_id COLLATE "C", pa.type COLLATE "C"`

interface RangeFlatRow {
  tz: string
  oldest: bigint | null
  date: string | null
  st: string
  et: string
  psid: string
  rem: number
  type: string | null
  name: string
  descr: string
  prim: boolean
  min: number
  max: number
  prem: number
  fin: string
  orig: string
  cur: string
}

export async function loadRange(db: Queryable, productId: number, from: string, to: string): Promise<RangeRow | undefined> {
  const rows = await db.$queryRaw<RangeFlatRow[]>(rangeSql(productId, from, to))
  const first = rows[0]
  if (!first) return undefined
  const slots: RangeSlotRow[] = []
  let slot: RangeSlotRow | undefined
  for (const r of rows) {
    if (r.date === null) continue // the product without slots in the range
    if (!slot || slot.date !== r.date || slot.providerSlotId !== r.psid) {
      slot = { date: r.date, startTime: r.st, endTime: r.et, providerSlotId: r.psid, remaining: r.rem, pax: [] }
      slots.push(slot)
    }
    if (r.type !== null) {
      slot.pax.push({
        type: r.type,
        name: r.name,
        description: r.descr,
        isPrimary: r.prim,
        min: r.min,
        max: r.max,
        remaining: r.prem,
        finalPrice: r.fin,
        originalPrice: r.orig,
        currencyCode: r.cur,
      })
    }
  }
  return { timeZone: first.tz, slots, oldestFetchedAt: first.oldest === null ? null : Number(first.oldest) }
}

export interface ProductSummaryRow {
  id: number
  timeZone: string
  /** Distinct "HH:mm" starts stored for today … today + days − 1 (product-local), code point order. */
  startTimes: string[]
  /** Pax types stored in that window, with the loosest min/max seen. */
  paxTypes: { type: string; name: string; min: number; max: number }[]
  currencies: string[]
}

// What the stored horizon says a product offers: start times, pax types and
// currencies, per active product (or one). "Today" is each product's own
// calendar day at `at` (the service's clock), like the API's horizon. Grouped
// by product in one pass over the horizon's rows: per-product subqueries
// rescanned them and took ~360 ms for 100 products × 60 days.
const summarySql = (at: Date, days: number, productId: number | null) => Prisma.sql`/* availability_summaries */
WITH h AS (
  SELECT p.id, p.time_zone, (${at}::timestamptz AT TIME ZONE p.time_zone)::date AS today
  FROM product p WHERE p.active AND (${productId}::int IS NULL OR p.id = ${productId})
), s AS MATERIALIZED (
  SELECT s.id, s.product_id, s.start_time FROM h JOIN slot s ON s.product_id = h.id AND s.date BETWEEN h.today AND h.today + (${days}::int - 1)
), pax AS MATERIALIZED (
  SELECT s.product_id, pa.type, pa.name, pa.min, pa.max, pa.currency_code FROM s JOIN pax_availability pa ON pa.slot_id = s.id
), starts AS (
  SELECT product_id, json_agg(start_time ORDER BY start_time COLLATE "C") AS v
  FROM (SELECT DISTINCT product_id, start_time FROM s) t GROUP BY product_id
), types AS (
  SELECT product_id, json_agg(json_build_object('type', type, 'name', name, 'min', mn, 'max', mx) ORDER BY type COLLATE "C") AS v
  FROM (SELECT product_id, type, min(name) AS name, min(min) AS mn, max(max) AS mx FROM pax GROUP BY product_id, type) u GROUP BY product_id
), currencies AS (
  SELECT product_id, json_agg(cur ORDER BY cur) AS v
  FROM (SELECT DISTINCT product_id, currency_code AS cur FROM pax) c GROUP BY product_id
)
SELECT h.id, h.time_zone AS "timeZone",
       COALESCE(starts.v, '[]'::json) AS "startTimes", COALESCE(types.v, '[]'::json) AS "paxTypes", COALESCE(currencies.v, '[]'::json) AS currencies
FROM h
LEFT JOIN starts ON starts.product_id = h.id
LEFT JOIN types ON types.product_id = h.id
LEFT JOIN currencies ON currencies.product_id = h.id
ORDER BY h.id`

export async function productSummaries(db: Queryable, at: Date, days: number, productId?: number): Promise<ProductSummaryRow[]> {
  return db.$queryRaw<ProductSummaryRow[]>(summarySql(at, days, productId ?? null))
}

/** [price final, original, currency] of a pax type as decimal text, with the type first. */
export type UnitPriceRow = readonly [type: string, finalPrice: string, originalPrice: string, currencyCode: string]

/** A fetched day as the OCTO calendar needs it: [date, slot count, largest remaining, lowest price per pax type (types in code point order)]. */
export type CalendarDayRow = readonly [date: string, slotCount: number, vacancies: number, units: readonly UnitPriceRow[]]

export interface CalendarRow {
  timeZone: string
  /** The fetched days of the range, ascending; a day without a row was never fetched. */
  days: CalendarDayRow[]
}

// One narrow row per fetched day (day_calendar, kept by a trigger from the
// stored /slots text), built into one JSON text by availability_calendar
// (migration 20261212090000_coverage_reads): a 60-day calendar reads ≤ 60
// short rows instead of every slot and pax row of the range.
const calendarSql = (productId: number, from: string, to: string) => Prisma.sql`/* availability_calendar */
SELECT tz AS "timeZone", days FROM availability_calendar(${productId}::int, ${from}::date, ${to}::date)`

export async function loadCalendar(db: Queryable, productId: number, from: string, to: string): Promise<CalendarRow | undefined> {
  const rows = await db.$queryRaw<{ timeZone: string | null; days: string | null }[]>(calendarSql(productId, from, to))
  const row = rows[0]
  return row?.timeZone == null ? undefined : { timeZone: row.timeZone, days: JSON.parse(row.days ?? '[]') }
}
