/**
 * `sync/status` and the dispatcher's queries at full size: 450 products ×
 * 60 days of fetch state and a full day of partner requests (43,200 rows),
 * on the embedded Postgres. Prints median and p99 ms of each against a bare
 * `SELECT 1` round trip through the same PrismaClient (the baseline). Target: status < 20 ms.
 *
 *   npm run bench:status -- [--products 450] [--reps 200]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { zonedTimeToInstant } from '../server/calendar/days.ts'
import { manualClock } from '../server/clock.ts'
import { createDatabase } from '../server/db/client.ts'
import { ensureDatabase, startEmbeddedPostgres } from '../server/db/embedded-postgres.ts'
import { applyMigrations } from '../server/db/migrate.ts'
import { silentLogger } from '../server/logger.ts'
import { HORIZON_DAYS } from '../server/calendar/horizon.ts'
import { loadCandidates, maintainHorizon } from '../server/sync/claims.ts'
import { planCounts } from '../server/sync/plan-counts.ts'
import { computePlan } from '../server/sync/policy/plan.ts'
import { dueSql, pastCutoffSql, productsTodayCte, tierTargetSql } from '../server/sync/due.ts'
import { readHorizonCounts } from '../server/sync/horizon-counts.ts'
import { createSync } from '../server/sync/index.ts'

const { values: args } = parseArgs({
  options: {
    products: { type: 'string', default: '450' },
    reps: { type: 'string', default: '200' },
    out: { type: 'string', default: 'bench/out/status.json' },
  },
})
const PRODUCTS = Number(args.products)
const REPS = Number(args.reps)
const TZ = 'Asia/Singapore'
const NOW = zonedTimeToInstant('2026-12-01', '10:00', TZ)

/** A horizon in mid-life: most days fetched within their tier, some due, some failing, some never fetched, a run queued. */
const SEED = `
INSERT INTO product (id, time_zone) SELECT g, $2 FROM generate_series(1, $3) g WHERE $1::timestamptz IS NOT NULL;
INSERT INTO day_fetch_state (product_id, date, last_attempt_at, last_fetched_at, last_outcome, slot_count, last_slot_start, total_remaining, next_due_at, consecutive_failures, last_error, forced_at)
SELECT p, d::date,
       $1::timestamptz - (h * interval '1 hour'),
       CASE WHEN (p * 31 + o) % 97 = 0 THEN NULL ELSE $1::timestamptz - (h * interval '1 hour') END,
       (CASE WHEN (p + o) % 3 = 0 THEN 'empty' ELSE 'ok' END)::fetch_outcome,
       CASE WHEN (p + o) % 3 = 0 THEN 0 ELSE 6 END,
       CASE WHEN (p + o) % 3 = 0 THEN NULL ELSE lpad(((8 + p % 12))::text, 2, '0') || ':30' END,
       100,
       $1::timestamptz + (((p * 7 + o * 13) % 240) - 60) * interval '1 minute',
       CASE WHEN (p * 11 + o) % 211 = 0 THEN 2 ELSE 0 END,
       CASE WHEN (p * 11 + o) % 211 = 0 THEN 'http: partner answered HTTP 503' END,
       CASE WHEN p % 50 = 0 THEN $1::timestamptz END
FROM generate_series(1, $3) p, generate_series(0, 59) o,
     LATERAL (SELECT ($1::timestamptz AT TIME ZONE $2)::date + o AS d, ((p * 17 + o * 5) % 100) / 100.0 * CASE WHEN o = 0 THEN 0.25 WHEN o <= 7 THEN 4 ELSE 24 END AS h) x;
INSERT INTO partner_request (sent_at, instance_id) SELECT $1::timestamptz - (g * interval '2 seconds'), 'seed' || $2 || $3 FROM generate_series(0, 43199) g;
ANALYZE`

/**
 * The horizon counts as one scan of every row, as status read them before
 * horizon-counts.ts (93054eb): the baseline the indexed reads are measured against.
 */
const SCAN_SQL = `
  WITH ${productsTodayCte('$1::timestamptz')}
  SELECT off, count(*)::int AS total,
         count(*) FILTER (WHERE due)::int AS due,
         count(*) FILTER (WHERE due AND next_due_at <= $1::timestamptz - (${tierTargetSql('off')}) * interval '1 millisecond')::int AS overdue,
         count(*) FILTER (WHERE forced_at IS NOT NULL)::int AS queued,
         count(*) FILTER (WHERE claimed_until > $1)::int AS in_flight,
         count(*) FILTER (WHERE last_fetched_at IS NULL)::int AS never,
         count(*) FILTER (WHERE open_today)::int AS open_today,
         min(last_fetched_at) AS oldest
  FROM (
    SELECT f.date - p.today AS off, f.next_due_at, f.forced_at, f.claimed_until, f.last_fetched_at,
           CASE WHEN f.next_due_at <= $1 OR f.forced_at IS NOT NULL THEN ${dueSql('$1::timestamptz', 'p.today')} ELSE false END AS due,
           CASE WHEN f.date = p.today THEN f.last_outcome IS DISTINCT FROM 'empty' AND NOT ${pastCutoffSql('$1::timestamptz', 'p.today')} ELSE false END AS open_today
    FROM day_fetch_state f JOIN p ON p.id = f.product_id
    WHERE p.active AND NOT p.paused AND f.date BETWEEN p.today AND p.today + ${HORIZON_DAYS - 1}) d
  GROUP BY off`

function quantiles(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b)
  return { p50: s[Math.floor(s.length * 0.5)]!, p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]! }
}

async function time(reps: number, fn: () => Promise<unknown>) {
  for (let i = 0; i < 5; i++) await fn()
  const ms: number[] = []
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    await fn()
    ms.push(performance.now() - t0)
  }
  const cpu = process.cpuUsage(cpu0)
  // This process' CPU per call (the database's own work is in its processes, not counted here).
  return { ...quantiles(ms), cpuMs: (cpu.user + cpu.system) / 1000 / reps }
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-status-'))
  const pg = await startEmbeddedPostgres({ dataDir })
  try {
    await ensureDatabase(pg.url, 'status')
    await applyMigrations(pg.urlFor('status'))
    const db = createDatabase(pg.urlFor('status'))
    for (const stmt of SEED.split(';')
      .map((x) => x.trim())
      .filter(Boolean)) {
      // Constant seed text with positional parameters, bound (never interpolated).
      if (stmt === 'ANALYZE') await db.prisma.$executeRawUnsafe(stmt)
      else await db.prisma.$executeRawUnsafe(stmt, new Date(NOW), TZ, PRODUCTS)
    }
    // The rows exist; the products' record of their coverage is what the engine's maintenance writes.
    await maintainHorizon(db.prisma, NOW)
    const clock = manualClock(NOW)
    const sync = createSync({
      db,
      clock,
      budgetClock: clock,
      logger: silentLogger,
      partner: { baseUrl: 'http://127.0.0.1:9', apiKey: 'x', sandbox: true },
      limitPerMinute: 30,
      timeZone: TZ,
    })
    const status = await sync.control.status()
    const results = {
      date: new Date().toISOString(),
      pairs: PRODUCTS * 60,
      reps: REPS,
      baseline: await time(REPS, () => db.prisma.$executeRaw`SELECT 1`),
      status: await time(REPS, () => sync.control.status()),
      horizon: await time(REPS, () => readHorizonCounts(db.prisma, new Date(NOW))),
      scan: await time(REPS, () => db.prisma.$queryRawUnsafe(SCAN_SQL, new Date(NOW))),
      candidates: await time(Math.ceil(REPS / 4), () => loadCandidates(db.prisma, NOW, { week: 64, month: 64, horizon: 64 })),
      planCounts: await time(Math.ceil(REPS / 4), () => planCounts(db.prisma, NOW, 29.5)),
      plan: await time(Math.ceil(REPS / 4), async () => computePlan(await planCounts(db.prisma, NOW, 29.5))),
      queue: status.queue,
      // The list again with every day read (day_demand full: its worst case), as sync/demand.ts flushes them.
      candidatesRead: await (async () => {
        await db.prisma.$executeRawUnsafe(
          `INSERT INTO day_demand (product_id, date, reads, at) SELECT product_id, date, (product_id % 97) + 1, $1::timestamptz FROM day_fetch_state`,
          new Date(NOW - 3_600_000),
        )
        await db.prisma.$executeRawUnsafe('ANALYZE day_demand')
        return time(Math.ceil(REPS / 4), () => loadCandidates(db.prisma, NOW, { week: 64, month: 64, horizon: 64 }))
      })(),
    }
    await db.close()
    fs.mkdirSync(path.dirname(args.out!), { recursive: true })
    fs.writeFileSync(args.out!, JSON.stringify(results, null, 2))
    process.stdout.write(`${formatStatusTable(results)}\n`)
  } finally {
    await pg.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

type Q = { p50: number; p99: number; cpuMs?: number }
export function formatStatusTable(r: {
  pairs: number
  reps: number
  baseline: Q
  status: Q
  horizon?: Q
  scan?: Q
  candidates: Q
  candidatesRead?: Q
  planCounts?: Q
  plan?: Q
}): string {
  const row = (label: string, q: Q, target = '') =>
    `| ${label} | ${q.p50.toFixed(2)} ms | ${q.p99.toFixed(2)} ms | ${(q.p50 / r.baseline.p50).toFixed(1)}× | ${q.cpuMs === undefined ? '' : `${q.cpuMs.toFixed(1)} ms`} | ${target} |`
  return [
    `${r.pairs.toLocaleString('en')} (product, date) pairs and 43,200 partner requests in the log; ${r.reps} calls each (a quarter for the dispatcher's lists).`,
    '',
    '| call | median | p99 | median ÷ SELECT 1 | CPU of this process per call | target |',
    '|---|---:|---:|---:|---:|---|',
    row('SELECT 1 round trip (baseline)', r.baseline),
    row('sync/status (the service call behind the route)', r.status, '< 20 ms'),
    ...(r.horizon && r.scan
      ? [row('  its horizon counts: indexed reads (horizon-counts.ts)', r.horizon), row('  the same counts as one scan of every row (before)', r.scan)]
      : []),
    row('dispatcher: list due pairs (every 5 s)', r.candidates),
    ...(r.candidatesRead ? [row('  the same with every day read (day_demand full)', r.candidatesRead)] : []),
    ...(r.planCounts ? [row('policy: count the horizon for the plan (one statement)', r.planCounts)] : []),
    ...(r.plan ? [row('policy: re-plan (count + compute the 24 h plan)', r.plan, '< 200 ms CPU at 450 products, < 2 s at 10,000')] : []),
  ].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
