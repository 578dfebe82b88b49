/**
 * What Postgres spends on one read, by the way the statement reaches it: the
 * /slots and /dates reads sent ad hoc (planned on every execution, as
 * adapter-pg's unnamed statements are), through the PL/pgSQL functions of
 * migration 20261130090000_read_functions (plans cached per backend), and,
 * for reference only, as named prepared statements (which slotsync does not
 * use: a transaction-pooling PgBouncer would mix them up). Also /dates with
 * each day's entry text stored instead of built per read (a column added to
 * this throw-away database only). One connection, calls in sequence, the
 * backend's own CPU from /proc.
 *
 *   node --import tsx bench/api-statements.ts [--products 100] [--calls 3000]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { addDays } from '../server/calendar/days.ts'
import { horizonAt } from '../server/calendar/horizon.ts'
import { systemClock } from '../server/clock.ts'
import { createDatabase } from '../server/db/client.ts'
import { ensureDatabase, startEmbeddedPostgres } from '../server/db/embedded-postgres.ts'
import { applyMigrations } from '../server/db/migrate.ts'
import { seed, TZ } from './api-setup.ts'

const { values: args } = parseArgs({ options: { products: { type: 'string', default: '100' }, calls: { type: 'string', default: '3000' } } })
const CALLS = Number(args.calls)

// The statements the functions replaced (their bodies, sent as they were before).
const DAY_AD_HOC = `SELECT p.time_zone AS "timeZone", v.fetched_at AS "lastFetchedAt", v.body
FROM product p LEFT JOIN day_slots_json v ON v.product_id = p.id AND v.date = $2::date WHERE p.id = $1`
const ENTRY = `'{"date":' || to_json(d.date)::text || ',"price":{"finalPrice":' || trim_scale(d.lowest_final_price)::text
  || ',"currencyCode":"' || d.lowest_currency || '","originalPrice":' || trim_scale(d.lowest_original_price)::text || '}}'`
const datesAdHoc = (entry: string) => `SELECT p.time_zone AS "timeZone",
  '[' || COALESCE((SELECT string_agg(${entry}, ',' ORDER BY d.date) FROM day_summary d
                   WHERE d.product_id = p.id AND d.date BETWEEN $2::date AND $3::date AND d.open), '') || ']' AS dates
FROM product p WHERE p.id = $1`

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-statements-'))
  const server = await startEmbeddedPostgres({ dataDir })
  try {
    await ensureDatabase(server.url, 'bench_api')
    const url = server.urlFor('bench_api')
    await applyMigrations(url)
    const db = createDatabase(url)
    const now = systemClock.now()
    const { today } = horizonAt(now, TZ)
    await seed(db, Number(args.products), today, now)
    await db.close()

    const c = new pg.Client({ connectionString: url })
    await c.connect()
    const { rows: ids } = await c.query<{ id: number }>('SELECT id FROM product ORDER BY id')
    const from = addDays(today, -1)
    const to = addDays(today, 60)
    // Stored entries: this database only, to price the option.
    await c.query('ALTER TABLE day_summary ADD COLUMN entry text')
    await c.query(`UPDATE day_summary d SET entry = ${ENTRY} WHERE d.open`)
    await c.query(`CREATE FUNCTION dates_stored(p_product_id integer, p_from date, p_to date, OUT tz text, OUT dates text) LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT p.time_zone, '[' || COALESCE((SELECT string_agg(d.entry, ',' ORDER BY d.date) FROM day_summary d
    WHERE d.product_id = p.id AND d.date BETWEEN p_from AND p_to AND d.open), '') || ']' INTO tz, dates FROM product p WHERE p.id = p_product_id;
END $$`)
    const { rows: me } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    const backendCpuMs = () => {
      const stat = fs.readFileSync(`/proc/${me[0]!.pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return (Number(f[11]) + Number(f[12])) * 10
    }
    const id = (i: number) => ids[i % ids.length]!.id
    const day = (i: number) => addDays(today, i % 60)
    const variants: [string, (i: number) => Promise<unknown>][] = [
      ['SELECT 1 (the floor)', () => c.query('SELECT 1')],
      ['/slots ad hoc', (i) => c.query(DAY_AD_HOC, [id(i), day(i)])],
      ['/slots function', (i) => c.query('SELECT * FROM availability_day($1::int, $2::date)', [id(i), day(i)])],
      ['/slots named prepared', (i) => c.query({ name: 'day', text: DAY_AD_HOC, values: [id(i), day(i)] })],
      ['/dates ad hoc', (i) => c.query(datesAdHoc(ENTRY), [id(i), from, to])],
      ['/dates function', (i) => c.query('SELECT * FROM availability_dates($1::int, $2::date, $3::date)', [id(i), from, to])],
      ['/dates named prepared', (i) => c.query({ name: 'dates', text: datesAdHoc(ENTRY), values: [id(i), from, to] })],
      ['/dates stored entries, ad hoc', (i) => c.query(datesAdHoc('d.entry'), [id(i), from, to])],
      ['/dates stored entries, function', (i) => c.query('SELECT * FROM dates_stored($1::int, $2::date, $3::date)', [id(i), from, to])],
    ]
    console.log(
      `${ids.length} products, ${CALLS} calls each on one connection, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    )
    for (const [name, call] of variants) {
      for (let i = 0; i < 300; i++) await call(i)
      const cpu0 = backendCpuMs()
      const t0 = performance.now()
      for (let i = 0; i < CALLS; i++) await call(i)
      const wall = ((performance.now() - t0) * 1000) / CALLS
      const cpu = ((backendCpuMs() - cpu0) * 1000) / CALLS
      console.log(`${name.padEnd(34)} Postgres CPU ${cpu.toFixed(0).padStart(4)} µs a call, wall ${wall.toFixed(0).padStart(4)} µs`)
    }
    await c.end()
  } finally {
    await server.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
