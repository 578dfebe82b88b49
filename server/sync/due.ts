import { HORIZON_DAYS } from '../calendar/horizon.ts'
import { TIERS } from './tiers.ts'

/**
 * "Will the engine still fetch this pair?" as SQL, for the statements that
 * list, claim and count due pairs (claims.ts, control.ts). It is the same
 * rule the planner applies in TypeScript (planner.ts `rankDue` and
 * `isPastCutoff`), generated from the same tier table; a test runs both over
 * the same rows and requires them to agree.
 *
 * Expects `f` = day_fetch_state, `p` = product, and `now` a timestamptz
 * expression (a parameter); `today` may be passed precomputed per product.
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
 */
export function productsTodayCte(now: string): string {
  return `p AS MATERIALIZED (SELECT id, time_zone, active, paused, (${now} AT TIME ZONE time_zone)::date AS today FROM product)`
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

/** The tier's target age in milliseconds for a day offset (an SQL expression). */
export function tierTargetSql(off: string): string {
  return `CASE ${TIERS.map((t) => `WHEN ${off} BETWEEN ${t.fromOffset} AND ${t.toOffset} THEN ${t.targetMs}`).join(' ')} END`
}
