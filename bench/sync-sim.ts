/**
 * A simulated day of syncing: the real planner, budget, engine and database,
 * the real HTTP sandbox, on a clock that jumps from one pass to the next.
 * Prints freshness, budget use, 429s and DB writes for the smart planner and
 * a naive fixed-interval baseline, side by side, in one run.
 *
 * The database starts pre-filled as if syncing had been running (prefill.ts),
 * then runs a warm-up before the measured span.
 *
 *   npm run bench:sync -- [--products 450] [--warmup-hours 6] [--hours 24] [--limit 30]
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
import { startSandbox } from '../server/sandbox/server.ts'
import { smartStrategy, type PlanStrategy } from '../server/sync/engine.ts'
import { createSync } from '../server/sync/index.ts'
import { silentLogger } from '../server/logger.ts'
import { naiveStrategy } from './naive-strategy.ts'
import { prefill } from './prefill.ts'

const { values: args } = parseArgs({
  options: {
    products: { type: 'string', default: '450' },
    'warmup-hours': { type: 'string', default: '6' },
    hours: { type: 'string', default: '24' },
    limit: { type: 'string', default: '30' },
    strategies: { type: 'string', default: 'smart,naive' },
    out: { type: 'string', default: 'bench/out/sync.json' },
  },
})
const PRODUCTS = Number(args.products)
const WARMUP_MS = Number(args['warmup-hours']) * 3_600_000
const MEASURE_MS = Number(args.hours) * 3_600_000
const LIMIT = Number(args.limit)
const TZ = 'Asia/Singapore'
const SAMPLE_EVERY_MS = 5 * 60_000
const MEASURE_FROM = zonedTimeToInstant('2026-12-01', '00:00', TZ)

export interface SimResult {
  strategy: string
  products: number
  todayWithinTarget: number
  weekWithinTarget: number
  closedWithin24h: number
  oldestHours: number
  neverFetchedAtEnd: number
  utilisation: number
  requests: number
  rateLimited: number
  maxInAnyWindow: number
  dbWrites: number
  realSeconds: number
}

const silent = silentLogger

// Reads sampled every 5 simulated minutes: today's open days before their
// last slot (target 15 min), days 1–7 with slots (target 4 h), empty days
// (re-checked within 24 h), and the oldest fetch anywhere in the horizon.
const SAMPLE_SQL = `
WITH d AS (
  SELECT f.*, (f.date - ($1::timestamptz AT TIME ZONE p.time_zone)::date) AS off,
         CASE WHEN f.last_slot_start IS NULL THEN NULL ELSE ((f.date + f.last_slot_start::time) AT TIME ZONE p.time_zone) END AS cutoff,
         $1::timestamptz - f.last_fetched_at AS age
  FROM day_fetch_state f JOIN product p ON p.id = f.product_id)
SELECT
  count(*) FILTER (WHERE off = 0 AND last_outcome = 'ok' AND cutoff > $1)::int AS today_reads,
  count(*) FILTER (WHERE off = 0 AND last_outcome = 'ok' AND cutoff > $1 AND age <= interval '15 minutes')::int AS today_ok,
  count(*) FILTER (WHERE off BETWEEN 1 AND 7 AND last_outcome = 'ok')::int AS week_reads,
  count(*) FILTER (WHERE off BETWEEN 1 AND 7 AND last_outcome = 'ok' AND age <= interval '4 hours')::int AS week_ok,
  count(*) FILTER (WHERE off BETWEEN 0 AND 59 AND last_outcome = 'empty')::int AS closed_reads,
  count(*) FILTER (WHERE off BETWEEN 0 AND 59 AND last_outcome = 'empty' AND age <= interval '24 hours')::int AS closed_ok,
  extract(epoch FROM max(age) FILTER (WHERE off BETWEEN 0 AND 59)) AS oldest_s,
  count(*) FILTER (WHERE off BETWEEN 0 AND 59 AND last_fetched_at IS NULL)::int AS never
FROM d`

const WRITES_SQL = `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint AS n FROM pg_stat_user_tables WHERE relname IN ('slot', 'pax_availability')`

async function simulate(name: string, strategy: PlanStrategy, adminUrl: string, urlFor: (db: string) => string): Promise<SimResult> {
  const dbName = `sim_${name}_${Date.now()}`
  await ensureDatabase(adminUrl, dbName)
  await applyMigrations(urlFor(dbName))
  const db = createDatabase(urlFor(dbName), { max: 12 })
  const clock = manualClock(MEASURE_FROM - WARMUP_MS)
  const sandbox = await startSandbox({ products: PRODUCTS - 2, rateLimitPerMinute: LIMIT, clock, timeZone: TZ })
  await db.pool.query(`INSERT INTO product (id, time_zone) SELECT unnest($1::int[]), $2`, [sandbox.catalogue.productIds(), TZ])
  const filled = await prefill(db.pool, sandbox.catalogue, strategy, clock.now(), TZ)
  process.stderr.write(`[${name}] pre-filled ${filled} days\n`)
  const sync = createSync({
    pool: db.pool,
    clock,
    logger: silent,
    partner: { baseUrl: sandbox.url, apiKey: sandbox.apiKey, sandbox: true },
    limitPerMinute: LIMIT,
    timeZone: TZ,
    instanceId: `bench-${name}`,
    engine: { strategy },
  })
  const t0 = Date.now()
  const end = MEASURE_FROM + MEASURE_MS
  let nextSample = MEASURE_FROM
  let nextProgress = Date.now() + 10_000
  const acc = { todayReads: 0, todayOk: 0, weekReads: 0, weekOk: 0, closedReads: 0, closedOk: 0, oldest: 0, never: 0 }
  let writesAtStart = 0n
  let requestsAtStart = 0
  let measuring = false
  while (clock.now() < end) {
    const now = clock.now()
    if (!measuring && now >= MEASURE_FROM) {
      measuring = true
      writesAtStart = BigInt((await db.pool.query(WRITES_SQL)).rows[0].n)
      requestsAtStart = sandbox.stats().requests
    }
    if (measuring && now >= nextSample) {
      const s = (await db.pool.query(SAMPLE_SQL, [new Date(now)])).rows[0]
      acc.todayReads += s.today_reads
      acc.todayOk += s.today_ok
      acc.weekReads += s.week_reads
      acc.weekOk += s.week_ok
      acc.closedReads += s.closed_reads
      acc.closedOk += s.closed_ok
      acc.oldest = Math.max(acc.oldest, Number(s.oldest_s ?? 0))
      acc.never = s.never
      nextSample += SAMPLE_EVERY_MS
    }
    const r = await sync.engine.runPass()
    if (Date.now() > nextProgress) {
      nextProgress = Date.now() + 10_000
      const h = ((clock.now() - MEASURE_FROM) / 3_600_000).toFixed(1)
      process.stderr.write(`[${name}] sim hour ${h} (${measuring ? 'measuring' : 'warm-up'}), ${sandbox.stats().requests} requests, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`)
    }
    // Jump to the next moment anything can happen: a free place in the
    // budget window, a halt's end, or (when nothing is due) 30 s on.
    const target = r.skipped === 'idle' ? now + 10_000 : Math.max(now + 1_000, r.nextBudgetAt ?? now + 1_000)
    clock.set(Math.min(Math.max(target, now + 1), Math.max(nextSample, now + 1), end))
  }
  const stats = sandbox.stats()
  const writes = BigInt((await db.pool.query(WRITES_SQL)).rows[0].n) - writesAtStart
  const requests = stats.requests - requestsAtStart
  await sync.engine.stop()
  await sandbox.close()
  await db.close()
  return {
    strategy: name,
    products: PRODUCTS,
    todayWithinTarget: acc.todayOk / Math.max(1, acc.todayReads),
    weekWithinTarget: acc.weekOk / Math.max(1, acc.weekReads),
    closedWithin24h: acc.closedOk / Math.max(1, acc.closedReads),
    oldestHours: acc.oldest / 3600,
    neverFetchedAtEnd: acc.never,
    utilisation: requests / ((MEASURE_MS / 60_000) * LIMIT),
    requests,
    rateLimited: stats.rateLimited,
    maxInAnyWindow: stats.maxInAnyWindow,
    dbWrites: Number(writes),
    realSeconds: (Date.now() - t0) / 1000,
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`

export function formatSimTable(results: SimResult[]): string {
  const rows: [string, (r: SimResult) => string, string][] = [
    ["today's reads within 15 min", (r) => pct(r.todayWithinTarget), '≥ 99 %'],
    ['days 1–7 reads within 4 h', (r) => pct(r.weekWithinTarget), '≥ 95 %'],
    ['oldest day in the 60-day horizon', (r) => `${r.oldestHours.toFixed(1)} h`, '< 36 h'],
    ['closed/empty days re-checked within 24 h', (r) => pct(r.closedWithin24h), ''],
    ['budget utilisation', (r) => pct(r.utilisation), '≥ 95 %'],
    ['429s provoked', (r) => String(r.rateLimited), '0'],
    ['max requests in any 60 s', (r) => String(r.maxInAnyWindow), `≤ ${LIMIT}`],
    ['DB row writes (slot + pax)', (r) => r.dbWrites.toLocaleString('en'), ''],
    ['pairs never fetched at the end', (r) => String(r.neverFetchedAtEnd), '0'],
  ]
  const head = `| figure | ${results.map((r) => r.strategy).join(' | ')} | target |\n|---|${results.map(() => '---|').join('')}---|`
  const body = rows.map(([label, f, target]) => `| ${label} | ${results.map(f).join(' | ')} | ${target} |`).join('\n')
  return `${head}\n${body}`
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-sim-'))
  const pg = await startEmbeddedPostgres({ dataDir })
  const results: SimResult[] = []
  try {
    const strategies: Record<string, PlanStrategy> = { smart: smartStrategy, naive: naiveStrategy }
    for (const name of args.strategies!.split(',')) {
      const strategy = strategies[name]
      if (!strategy) throw new Error(`unknown strategy ${name}`)
      process.stderr.write(`[${name}] ${PRODUCTS} products, ${LIMIT}/min, warm-up ${WARMUP_MS / 3_600_000} h, measuring ${MEASURE_MS / 3_600_000} h\n`)
      const r = await simulate(name, strategy, pg.url, pg.urlFor)
      results.push(r)
      // Each strategy's figures as soon as they exist: a full run takes a while.
      process.stderr.write(`[${name}] done in ${r.realSeconds.toFixed(0)} s\n${formatSimTable([r])}\n`)
    }
  } finally {
    await pg.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
  fs.mkdirSync(path.dirname(args.out!), { recursive: true })
  fs.writeFileSync(args.out!, JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, limit: LIMIT, results }, null, 2))
  process.stdout.write(`\nSync simulation: ${PRODUCTS} products, ${LIMIT} requests/min, ${MEASURE_MS / 3_600_000} h measured after ${WARMUP_MS / 3_600_000} h warm-up\n\n${formatSimTable(results)}\n`)
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
