import type pg from 'pg'

/**
 * The read side of availability: one statement per answer. Dates come back
 * as text (no JS Date for a calendar day) and money as numeric text, turned
 * into JSON numbers only at the edge (service.ts).
 */
type Queryable = Pick<pg.Pool, 'query'>

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
  slots: SlotRow[]
}

// The product row, the day's fetch state and its slots with their pax in one
// round trip: the slot index (product_id, date, start_time) finds the day, the
// (slot_id, type) unique index the pax. No product → no row.
const DAY_SQL = `
SELECT p.time_zone AS "timeZone",
       f.last_fetched_at AS "lastFetchedAt",
       COALESCE((
         SELECT json_agg(json_build_object(
                  'startTime', s.start_time, 'endTime', s.end_time, 'providerSlotId', s.provider_slot_id, 'remaining', s.remaining,
                  'pax', COALESCE((
                    SELECT json_agg(json_build_object(
                             'type', pa.type, 'name', pa.name, 'description', pa.description, 'isPrimary', pa.is_primary,
                             'min', pa.min, 'max', pa.max, 'remaining', pa.remaining,
                             'finalPrice', pa.final_price::text, 'originalPrice', pa.original_price::text, 'currencyCode', pa.currency_code))
                    FROM pax_availability pa WHERE pa.slot_id = s.id), '[]'::json))
                ORDER BY s.start_time COLLATE "C", s.provider_slot_id COLLATE "C")
         FROM slot s WHERE s.product_id = p.id AND s.date = $2::date), '[]'::json) AS slots
FROM product p
LEFT JOIN day_fetch_state f ON f.product_id = p.id AND f.date = $2::date
WHERE p.id = $1`

export async function loadDay(db: Queryable, productId: number, date: string): Promise<DayRow | undefined> {
  const { rows } = await db.query<DayRow>({ name: 'availability_day', text: DAY_SQL, values: [productId, date] })
  return rows[0]
}

export async function productTimeZone(db: Queryable, productId: number): Promise<string | undefined> {
  const { rows } = await db.query<{ timeZone: string }>({ name: 'availability_tz', text: 'SELECT time_zone AS "timeZone" FROM product WHERE id = $1', values: [productId] })
  return rows[0]?.timeZone
}

/**
 * The SQL twin of pricing.ts choosePrimary: flagged first, then ADULT types,
 * then the rest by price; ties by type in code point order.
 */
export const PRIMARY_PAX_ORDER = `
  CASE WHEN pa.is_primary THEN 0 WHEN upper(left(pa.type, 5)) = 'ADULT' THEN 1 ELSE 2 END,
  CASE WHEN NOT pa.is_primary AND upper(left(pa.type, 5)) <> 'ADULT' THEN pa.final_price END,
  pa.type COLLATE "C"`

export interface DayPriceRow {
  date: string
  finalPrice: string
  originalPrice: string
  currencyCode: string
}

// Per day, the cheapest primary price among slots with something left. Slots
// without pax types have no price and cannot be booked: they do not count.
const DATES_SQL = `
SELECT DISTINCT ON (s.date)
       s.date::text AS date, pp.final_price::text AS "finalPrice", pp.original_price::text AS "originalPrice", pp.currency_code AS "currencyCode"
FROM slot s
CROSS JOIN LATERAL (
  SELECT pa.final_price, pa.original_price, pa.currency_code
  FROM pax_availability pa
  WHERE pa.slot_id = s.id
  ORDER BY ${PRIMARY_PAX_ORDER}
  LIMIT 1
) pp
WHERE s.product_id = $1 AND s.date BETWEEN $2::date AND $3::date AND s.remaining > 0
ORDER BY s.date, pp.final_price, pp.original_price, pp.currency_code COLLATE "C"`

export async function lowestPricePerDay(db: Queryable, productId: number, from: string, to: string): Promise<DayPriceRow[]> {
  const { rows } = await db.query<DayPriceRow>({ name: 'availability_dates', text: DATES_SQL, values: [productId, from, to] })
  return rows
}
