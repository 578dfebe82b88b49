import { zonedTimeToInstant, type IsoDate } from '../calendar/days.ts'
import { HORIZON_DAYS } from '../calendar/horizon.ts'
import { TIERS, tierOf } from './tiers.ts'

/**
 * "Will the engine still fetch this pair?", once: in TypeScript for the
 * planner (`isDue`, `isPastCutoff`) and as SQL for the statements that list,
 * claim and count due pairs (claims.ts, control.ts), side by side and built
 * from the same tier table and horizon; a test runs both over the same rows
 * and requires them to agree (tests/integration/due-rule.test.ts).
 */

/** The instant today's last slot starts; after it nothing about today is worth a request. */
export function cutoffAt(date: IsoDate, lastSlotStart: string | null, timeZone: string): number | undefined {
  return lastSlotStart ? zonedTimeToInstant(date, lastSlotStart, timeZone) : undefined
}

export interface DueFacts {
  date: IsoDate
  timeZone: string
  nextDueAt: number
  forcedAt: number | null
  lastSlotStart: string | null
  lastFetchedAt: number | null
}

/** Today's pair whose last slot (as last fetched) has already started. SQL: `pastCutoffSql`. */
export function isPastCutoff(c: Pick<DueFacts, 'date' | 'timeZone' | 'lastSlotStart' | 'lastFetchedAt'>, offset: number, now: number): boolean {
  if (offset !== 0 || c.lastFetchedAt === null) return false
  const cutoff = cutoffAt(c.date, c.lastSlotStart, c.timeZone)
  return cutoff !== undefined && now >= cutoff
}

/**
 * Due, for a pair of a product being synced `offset` days from its today:
 * in the horizon, and asked for by "run now" or past its due time and not
 * past today's cut-off. SQL: `dueSql` (which also checks active/paused).
 */
export function isDue(c: DueFacts, offset: number, now: number): boolean {
  if (!tierOf(offset)) return false
  return c.forcedAt !== null || (c.nextDueAt <= now && !isPastCutoff(c, offset, now))
}

/**
 * The SQL forms below expect `f` = day_fetch_state, `p` = product, and `now`
 * a timestamptz expression (a parameter); `today` may be passed precomputed
 * per product.
 */
export function todaySql(now: string): string {
  return `(${now} AT TIME ZONE p.time_zone)::date`
}

export function offsetSql(now: string, today = todaySql(now)): string {
  return `(f.date - ${today})`
}

/**
 * A CTE `p` of products with their calendar day today, computed once per
 * product: inlined, the time-zone conversion ran once per joined row (27,000
 * at full size, most of a status call). Use with `dueSql(now, 'p.today')`.
 * `syncedOnly`: only the products being synced (active, not paused), for
 * statements that count what the engine serves (horizon-counts.ts).
 */
export function productsTodayCte(now: string, o: { syncedOnly?: boolean } = {}): string {
  return `p AS MATERIALIZED (SELECT id, time_zone, active, paused, horizon_from, horizon_to, (${now} AT TIME ZONE time_zone)::date AS today
                         FROM product${o.syncedOnly ? ' WHERE active AND NOT paused' : ''})`
}

/** Today's day whose last slot (as last fetched) has started: nothing about it is worth a request. */
export function pastCutoffSql(now: string, today = todaySql(now)): string {
  return `(f.date = ${today} AND f.last_fetched_at IS NOT NULL AND f.last_slot_start IS NOT NULL
           AND ((f.date + f.last_slot_start::time) AT TIME ZONE p.time_zone) <= ${now})`
}

/** Worth a request at all: an active, unpaused product's day in the horizon, asked for by "run now" or not past today's cut-off. */
export function fetchableSql(now: string, today = todaySql(now)): string {
  return `(p.active AND NOT p.paused AND ${offsetSql(now, today)} BETWEEN 0 AND ${HORIZON_DAYS - 1}
           AND (f.forced_at IS NOT NULL OR NOT ${pastCutoffSql(now, today)}))`
}

/** Due: fetchable, and asked for by "run now" or past its due time. */
export function dueSql(now: string, today = todaySql(now)): string {
  return `(${fetchableSql(now, today)} AND (f.forced_at IS NOT NULL OR f.next_due_at <= ${now}))`
}

/** Due reasons (policy/deadline.ts DueReason) as an SQL list of literals, for `due_reason IN (…)`. */
export function reasonsSql(reasons: readonly string[]): string {
  return reasons.map((r) => `'${r}'`).join(', ')
}

/** The tier's target age in milliseconds for a day offset (an SQL expression). */
export function tierTargetSql(off: string): string {
  return `CASE ${TIERS.map((t) => `WHEN ${off} BETWEEN ${t.fromOffset} AND ${t.toOffset} THEN ${t.targetMs}`).join(' ')} END`
}
