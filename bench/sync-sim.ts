/**
 * A simulated day of syncing: the real planner, budget, engine and database,
 * the real HTTP sandbox answering after its latency, with production
 * settings (1 s window margin, 8 requests in flight, 10 s timeout), on a
 * discrete-event clock that jumps to the next thing that can happen (a place
 * in the window, an answer leaving the sandbox, a sample).
 *
 * For each catalogue shape it prints what each tier needs a day to be 100 %
 * fresh against the budget, the best any planner could do with that budget
 * (best-plan.ts), and beside it what the smart planner and a naive baseline
 * measured: freshness per tier, the age of days 31–59, accuracy (sampled reads
 * whose stored answer equals what the partner answers at that instant), budget
 * use, 429s and arrivals per 60 s at the sandbox. `--run-hours` adds a
 * scenario: a "run now" of the whole horizon, with today's freshness while it
 * drains.
 *
 *   npm run bench:sync -- [--catalogue sample,dense,zones,seasonal] [--products 450] [--warmup-hours 3] [--hours 24] [--run-hours 6] [--day 2026-12-01] [--days 7]
 *
 * `--days N` measures N consecutive calendar days from `--day` (midnight to
 * midnight in the reference zone, Asia/Singapore), each its own row with the
 * minute-by-minute bound of that day (`days` in the JSON); it replaces
 * `--hours`. Products keep their own zones (the `zones` shape spreads them):
 * reads, tiers and "today" are each product's own local dates.
 *
 * `--day` is the measured calendar day (from its midnight). The default, a
 * Tuesday, follows the dense catalogue's light Monday (most of its closing
 * days); 2026-12-02 with a 48 h warm-up measures a day after a busy one.
 *
 * Shoppers (sync-shopper.ts): beside the uniform sampled reads, reads drawn
 * from a demand model (sync-demand.ts: products by a Zipf law, near days
 * more than far ones) at `--reads-per-hour` (default 1200), counted by the
 * service's read counter from the warm-up on, and judged while measuring:
 * read-weighted freshness per tier and bookable accuracy. `--live-per-hour N`
 * adds, for each catalogue, a smart run with live checks arriving at N an
 * hour (the issue's rate is 60) from the same model, maximum age
 * `--live-max-age-s` (default 300): its scheduled tiers compare with the run
 * without them.
 *
 * `SIM_DIAG=1` also writes to stderr, every measured hour, the stale open
 * days 8–30 by offset and by when they were last fetched and are due, and at
 * the end the requests by tier and stored outcome.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { parseLatency } from '../server/config.ts'
import { addDays, localDate, zonedTimeToInstant } from '../server/calendar/days.ts'
import { manualClock } from '../server/clock.ts'
import { createDatabase } from '../server/db/client.ts'
import { ensureDatabase, startEmbeddedPostgres } from '../server/db/embedded-postgres.ts'
import { applyMigrations } from '../server/db/migrate.ts'
import { silentLogger } from '../server/logger.ts'
import { CATALOGUE_SHAPES, type CatalogueShape } from '../server/sandbox/catalogue.ts'
import { seededRandom } from '../server/sandbox/rng.ts'
import { startSandbox } from '../server/sandbox/server.ts'
import { smartStrategy, type PlanStrategy } from '../server/sync/engine.ts'
import { TIERS } from '../server/sync/tiers.ts'
import { createSync } from '../server/sync/index.ts'
import { normalizeServed, storedDay, type NormalSlot } from '../tests/helpers/stored.ts'
import { bestOverTime, bestOverTimeSeries, bestShares, dailyNeeds, type BestSample, type Needs } from './best-plan.ts'
import { naiveStrategy } from './naive-strategy.ts'
import { prefill } from './prefill.ts'
import { simShoppers } from './sync-shopper.ts'
import { dayAccumulator, type SampleCounts } from './sync-days.ts'
import { hourlyTracker } from './sync-hourly.ts'
import { formatSimReport, type CatalogueReport, type RunResult, type SimReport, type SimResult } from './sync-report.ts'

const { values: args } = parseArgs({
  options: {
    products: { type: 'string', default: '450' },
    'warmup-hours': { type: 'string', default: '3' },
    hours: { type: 'string', default: '24' },
    'run-hours': { type: 'string', default: '6' },
    limit: { type: 'string', default: '30' },
    latency: { type: 'string', default: '300-4000' },
    catalogue: { type: 'string', default: 'sample,dense' },
    strategies: { type: 'string', default: 'smart,naive' },
    /** Default bench/out/sync.json; a `--days` run's default is bench/results/<catalogue>-<days>d-<products>x<limit>.json, an input of `npm run bench:results`. */
    out: { type: 'string' },
    day: { type: 'string', default: '2026-12-01' },
    days: { type: 'string' },
    'reads-per-hour': { type: 'string', default: '1200' },
    'live-per-hour': { type: 'string' },
    'live-max-age-s': { type: 'string', default: '300' },
  },
})
const PRODUCTS = Number(args.products)
const WARMUP_MS = Number(args['warmup-hours']) * 3_600_000
const DAYS = args.days === undefined ? undefined : Number(args.days)
const OUT =
  args.out ??
  (DAYS === undefined ? 'bench/out/sync.json' : `bench/results/${args.catalogue!.replaceAll(',', '+')}-${DAYS}d-${args.products}x${args.limit}.json`)
const MEASURE_MS = (DAYS === undefined ? Number(args.hours) : DAYS * 24) * 3_600_000
const RUN_MS = Number(args['run-hours']) * 3_600_000
const LIMIT = Number(args.limit)
const LATENCY = parseLatency(args.latency!)
if (!LATENCY) throw new Error(`--latency must be "n" or "a-b" milliseconds, got ${args.latency}`)
const READS_PER_HOUR = Number(args['reads-per-hour'])
const LIVE_PER_HOUR = args['live-per-hour'] === undefined ? undefined : Number(args['live-per-hour'])
if (LIVE_PER_HOUR !== undefined && !(LIVE_PER_HOUR > 0)) throw new Error(`--live-per-hour must be a positive number, got ${args['live-per-hour']}`)
const LIVE_MAX_AGE_MS = Number(args['live-max-age-s']) * 1000
const TZ = 'Asia/Singapore'
const DAY = args.day!
if (!/^\d{4}-\d{2}-\d{2}$/.test(DAY)) throw new Error(`--day must be YYYY-MM-DD, got ${DAY}`)
const MEASURE_FROM = zonedTimeToInstant(DAY, '00:00', TZ)
const SAMPLE_EVERY_MS = 5 * 60_000
const READS_PER_SAMPLE = 40
const IDLE_STEP_MS = 10_000
/** The window a production instance uses: 60 s + the default 1 s margin. */
const USABLE_PER_DAY = (LIMIT * 86_400_000) / 61_000

// Freshness of what clients read, every 5 simulated minutes, over all products:
// today's open days before their last slot (15 min), days 1–7 and 8–30 with
// slots (4 h, 24 h), empty days (24 h), and the age of days 31–59.
const SAMPLE_SQL = `
WITH d AS (
  SELECT f.*, (f.date - ($1::timestamptz AT TIME ZONE p.time_zone)::date) AS off,
         CASE WHEN f.last_slot_start IS NULL THEN NULL ELSE ((f.date + f.last_slot_start::time) AT TIME ZONE p.time_zone) END AS cutoff,
         extract(epoch FROM $1::timestamptz - f.last_fetched_at) AS age
  FROM day_fetch_state f JOIN product p ON p.id = f.product_id)
SELECT
  count(*) FILTER (WHERE off = 0 AND last_outcome = 'ok' AND cutoff > $1)::int AS today_reads,
  count(*) FILTER (WHERE off = 0 AND last_outcome = 'ok' AND cutoff > $1 AND age <= 900)::int AS today_ok,
  count(*) FILTER (WHERE off BETWEEN 1 AND 7 AND last_outcome = 'ok')::int AS week_reads,
  count(*) FILTER (WHERE off BETWEEN 1 AND 7 AND last_outcome = 'ok' AND age <= 14400)::int AS week_ok,
  count(*) FILTER (WHERE off BETWEEN 8 AND 30 AND last_outcome = 'ok')::int AS month_reads,
  count(*) FILTER (WHERE off BETWEEN 8 AND 30 AND last_outcome = 'ok' AND age <= 86400)::int AS month_ok,
  count(*) FILTER (WHERE off BETWEEN 0 AND 59 AND last_outcome = 'empty')::int AS closed_reads,
  count(*) FILTER (WHERE off BETWEEN 0 AND 59 AND last_outcome = 'empty' AND age <= 86400)::int AS closed_ok,
  coalesce(avg(age) FILTER (WHERE off BETWEEN 31 AND 59), 0)::float8 AS far_avg_s,
  coalesce(max(age) FILTER (WHERE off BETWEEN 31 AND 59), 0)::float8 AS far_max_s,
  count(*) FILTER (WHERE off BETWEEN 0 AND 59 AND last_fetched_at IS NULL)::int AS never,
  count(*) FILTER (WHERE forced_at IS NOT NULL)::int AS forced
FROM d`

const WRITES_SQL = `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint AS n FROM pg_stat_user_tables WHERE relname IN ('slot', 'pax_availability')`

/** Where reads fall, as traffic does: near days most (offset → weight). */
const READ_WEIGHTS: [number, number, number][] = [
  [0, 0, 0.15],
  [1, 7, 0.4],
  [8, 30, 0.35],
  [31, 59, 0.1],
]

/** SIM_DIAG, every measured hour: the stale open days 8–30, by offset (in the product's zone) and by the hour (in the reference zone) they were last fetched and are due. */
async function staleMonthDiag(prisma: ReturnType<typeof createDatabase>['prisma'], now: number, tag: string) {
  const stale = `off BETWEEN 8 AND 30 AND last_outcome = 'ok' AND last_fetched_at < $1::timestamptz - interval '24 hours'`
  const rows = await prisma.$queryRawUnsafe<{ k: string; n: number }[]>(
    `WITH d AS (SELECT f.*, (f.date - ($1::timestamptz AT TIME ZONE p.time_zone)::date) AS off FROM day_fetch_state f JOIN product p ON p.id = f.product_id)
     SELECT 'off ' || off AS k, count(*)::int AS n FROM d WHERE ${stale} GROUP BY off
     UNION ALL SELECT 'fetched ' || to_char(last_fetched_at AT TIME ZONE $2, 'DD HH24'), count(*)::int FROM d WHERE ${stale} GROUP BY 1
     UNION ALL SELECT 'due ' || to_char(next_due_at AT TIME ZONE $2, 'DD HH24'), count(*)::int FROM d WHERE ${stale} GROUP BY 1
     UNION ALL SELECT 'open', count(*)::int FROM d WHERE off BETWEEN 8 AND 30 AND last_outcome = 'ok'`,
    new Date(now),
    TZ,
  )
  process.stderr.write(`${tag} stale days 8–30 at ${new Date(now).toISOString()}: ${rows.map((r) => `${r.k}:${r.n}`).join(' ')}\n`)
}

function pickOffset(r: number, u: number): number {
  let acc = 0
  for (const [from, to, w] of READ_WEIGHTS) {
    acc += w
    if (r < acc || to === 59) return from + Math.floor(u * (to - from + 1))
  }
  return 0
}

/** The /dates view of a day: open or not, and its lowest price among slots with seats. */
function datesEntry(slots: NormalSlot[]): string {
  const open = slots.filter((s) => s.remaining > 0)
  if (!open.length) return 'closed'
  const prices = open.map((s) => Number((s.pax.find((p) => p.isPrimary) ?? s.pax[0])?.finalPrice ?? Infinity))
  return `open ${Math.min(...prices)}`
}

interface SimOptions {
  name: string
  strategy: PlanStrategy
  shape: CatalogueShape
  /** A run-now of everything at the start of the measured span. */
  runAll?: boolean
  /** Live checks at LIVE_PER_HOUR while measuring. */
  live?: boolean
  measureMs: number
  /** The minute-by-minute bound per sample, warm-up included, for the hourly breakdown. */
  bound: BestSample[]
}

async function simulate(o: SimOptions, adminUrl: string, urlFor: (db: string) => string): Promise<SimResult> {
  const dbName = `sim_${o.shape}_${o.name}_${Date.now()}`
  await ensureDatabase(adminUrl, dbName)
  await applyMigrations(urlFor(dbName))
  const db = createDatabase(urlFor(dbName), { max: 12 })
  const clock = manualClock(MEASURE_FROM - WARMUP_MS)
  const sandbox = await startSandbox({ products: PRODUCTS - 2, rateLimitPerMinute: LIMIT, clock, timeZone: TZ, latency: LATENCY, shape: o.shape })
  const ids = sandbox.catalogue.productIds()
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO product (id, time_zone) SELECT unnest($1::int[]), unnest($2::text[])`,
    ids,
    ids.map((id) => sandbox.catalogue.timeZone(id)),
  )
  // Production settings: default margin and in-flight limit; the shared
  // window on the simulated clock (the database's clock cannot be simulated).
  const sync = createSync({
    db,
    clock,
    budgetClock: clock,
    logger: silentLogger,
    partner: { baseUrl: sandbox.url, apiKey: sandbox.apiKey, sandbox: true },
    limitPerMinute: LIMIT,
    timeZone: TZ,
    instanceId: `bench-${o.name}`,
    engine: { strategy: o.strategy },
  })
  const filled = await prefill(db.prisma, sandbox.catalogue, o.strategy, clock.now(), sync.engine.todayLeadMs)
  const tag = `[${o.shape}/${o.name}${o.runAll ? '+run' : ''}${o.live ? '+live' : ''}]`
  process.stderr.write(`${tag} pre-filled ${filled} days\n`)
  const engine = sync.engine
  const shoppers = simShoppers({
    sync,
    prisma: db.prisma,
    catalogue: sandbox.catalogue,
    clock,
    timeZone: TZ,
    perSample: Math.round((READS_PER_HOUR * SAMPLE_EVERY_MS) / 3_600_000),
    readsPerHour: READS_PER_HOUR,
    measureFrom: MEASURE_FROM,
    ...(o.live ? { live: { perHour: LIVE_PER_HOUR!, maxAgeMs: LIVE_MAX_AGE_MS } } : {}),
  })
  /** Until every request in flight is parked in the sandbox's latency (or answered and written). */
  async function quiesce() {
    for (let stable = 0; stable < 2; ) {
      await new Promise((r) => setImmediate(r))
      if (engine.inFlight + shoppers.liveInFlight() === sandbox.pendingAnswers()) stable++
      else {
        stable = 0
        await new Promise((r) => setTimeout(r, 1))
      }
    }
  }

  const t0 = Date.now()
  const end = MEASURE_FROM + o.measureMs
  // Samples start with the warm-up so the hourly breakdown shows the evening before the measured midnight.
  let nextSample = clock.now()
  const hourly = hourlyTracker({ catalogue: sandbox.catalogue, timeZone: TZ, measureFrom: MEASURE_FROM, bound: o.bound })
  const perDay = dayAccumulator({ measureFrom: MEASURE_FROM, limitPerMinute: LIMIT, dateOf: (i) => addDays(DAY, i) })
  let nextProgress = Date.now() + 15_000
  const acc = {
    todayReads: 0,
    todayOk: 0,
    weekReads: 0,
    weekOk: 0,
    monthReads: 0,
    monthOk: 0,
    closedReads: 0,
    closedOk: 0,
    farAvgSum: 0,
    farMax: 0,
    samples: 0,
    never: 0,
  }
  const accuracy = { reads: 0, slotsEqual: 0, datesEqual: 0 }
  const run: RunResult = { queuedAtStart: 0, etaAtStart: null, drained: 0, leftAtEnd: 0 }
  const rnd = seededRandom(42)
  let writesAtStart = 0n
  let requestsAtStart = 0
  // Per simulated minute: requests sent, and whether due work was left waiting for the window.
  const minutes = new Map<number, { sent: number; due: boolean }>()
  let measuring = false
  while (clock.now() < end) {
    const now = clock.now()
    if (!measuring && now >= MEASURE_FROM) {
      measuring = true
      writesAtStart = BigInt((await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(WRITES_SQL))[0]!.n)
      requestsAtStart = sandbox.stats().requests
      hourly.requests(now, sandbox.stats().perProductDate)
      sandbox.resetStats()
      hourly.restart()
      perDay.restart()
      if (o.runAll) {
        run.queuedAtStart = (await sync.control.run({})).queued
        run.etaAtStart = (await sync.control.status()).run.etaAt
      }
    }
    if (now >= nextSample) {
      const s = (
        await db.prisma.$queryRawUnsafe<
          (SampleCounts & { closed_reads: number; closed_ok: number; far_avg_s: number; far_max_s: number; never: number; forced: number })[]
        >(SAMPLE_SQL, new Date(now))
      )[0]!
      hourly.sample(now, s)
      if (process.env.SIM_DIAG && measuring && (nextSample - MEASURE_FROM) % 3_600_000 === 0) await staleMonthDiag(db.prisma, now, tag)
      hourly.requests(now, sandbox.stats().perProductDate)
      await shoppers.sample(now, measuring)
      if (measuring) {
        perDay.totals(now, sandbox.stats())
        perDay.sample(now, s)
        acc.todayReads += s.today_reads
        acc.todayOk += s.today_ok
        acc.weekReads += s.week_reads
        acc.weekOk += s.week_ok
        acc.monthReads += s.month_reads
        acc.monthOk += s.month_ok
        acc.closedReads += s.closed_reads
        acc.closedOk += s.closed_ok
        acc.farAvgSum += s.far_avg_s
        acc.farMax = Math.max(acc.farMax, s.far_max_s)
        acc.samples++
        acc.never = s.never
        run.leftAtEnd = s.forced
        for (let i = 0; i < READS_PER_SAMPLE; i++) {
          const id = ids[Math.floor(rnd() * ids.length)]!
          // A client reads the product's days in its own calendar.
          const date = addDays(localDate(now, sandbox.catalogue.timeZone(id)), pickOffset(rnd(), rnd()))
          const stored = await storedDay(db.prisma, id, date)
          const truth = normalizeServed(sandbox.catalogue.inventory(id, date, now), date)
          const slotsEqual = JSON.stringify(stored) === JSON.stringify(truth)
          const datesEqual = datesEntry(stored) === datesEntry(truth)
          perDay.read(now, slotsEqual, datesEqual)
          accuracy.reads++
          if (slotsEqual) accuracy.slotsEqual++
          if (datesEqual) accuracy.datesEqual++
        }
      }
      nextSample += SAMPLE_EVERY_MS
    }
    if (measuring) await shoppers.step(now)
    const r = await engine.runPass({ settle: false, rerank: false })
    await quiesce()
    if (measuring) {
      const m = minutes.get(Math.floor((now - MEASURE_FROM) / 60_000)) ?? { sent: 0, due: false }
      m.sent += r.claimed
      if (r.due > r.claimed - r.early && r.stoppedBy !== 'idle') m.due = true
      minutes.set(Math.floor((now - MEASURE_FROM) / 60_000), m)
    }
    if (Date.now() > nextProgress) {
      nextProgress = Date.now() + 15_000
      const h = ((clock.now() - MEASURE_FROM) / 3_600_000).toFixed(1)
      process.stderr.write(
        `${tag} sim hour ${h} (${measuring ? 'measuring' : 'warm-up'}), ${sandbox.stats().requests} requests, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
      )
    }
    // Jump to the next moment anything can happen.
    const idle = r.skipped === 'idle' && r.claimed === 0
    const candidates = [
      clock.nextWakeAt(),
      r.nextBudgetAt !== undefined && !idle ? r.nextBudgetAt : undefined,
      idle ? now + IDLE_STEP_MS : undefined,
      nextSample,
      measuring ? shoppers.nextLiveAt() : undefined,
      end,
    ]
    const next = Math.max(now + 1, Math.min(...candidates.filter((t): t is number => t !== undefined)))
    clock.set(next)
    await quiesce()
  }
  await engine.settled()
  const stats = sandbox.stats()
  if (process.env.SIM_DIAG) {
    const rows = await db.prisma.$queryRawUnsafe<{ k: string; outcome: string; off: number; total_remaining: number | null }[]>(
      `SELECT f.product_id || '/' || f.date::text AS k, f.last_outcome AS outcome, (f.date - ($1::timestamptz AT TIME ZONE p.time_zone)::date) AS off FROM day_fetch_state f JOIN product p ON p.id = f.product_id`,
      new Date(clock.now()),
    )
    const by: Record<string, number> = {}
    for (const r of rows) {
      const n = stats.perProductDate[r.k] ?? 0
      const tier = r.off <= 0 ? `off${r.off}` : r.off <= 7 ? 'week' : r.off <= 30 ? 'month' : 'horizon'
      by[`${tier}/${r.outcome}`] = (by[`${tier}/${r.outcome}`] ?? 0) + n
    }
    process.stderr.write(`${tag} requests by tier/outcome (at the end): ${JSON.stringify(by)}\n`)
  }
  const writes = BigInt((await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(WRITES_SQL))[0]!.n) - writesAtStart
  const requests = stats.requests
  run.drained = run.queuedAtStart - run.leftAtEnd
  const busy = [...minutes.values()].filter((m) => m.due)
  for (const [i, m] of minutes) if (m.due) perDay.busyMinute(MEASURE_FROM + i * 60_000, m.sent)
  perDay.totals(end, stats)
  await engine.stop()
  await sandbox.close()
  await db.close()
  return {
    strategy: o.name,
    scenario: o.runAll ? 'run' : o.live ? 'live' : 'steady',
    hours: o.measureMs / 3_600_000,
    todayWithinTarget: acc.todayOk / Math.max(1, acc.todayReads),
    weekWithinTarget: acc.weekOk / Math.max(1, acc.weekReads),
    monthWithinTarget: acc.monthOk / Math.max(1, acc.monthReads),
    closedWithin24h: acc.closedOk / Math.max(1, acc.closedReads),
    farAvgAgeHours: acc.farAvgSum / Math.max(1, acc.samples) / 3600,
    farMaxAgeHours: acc.farMax / 3600,
    accuracySlots: accuracy.slotsEqual / Math.max(1, accuracy.reads),
    accuracyDates: accuracy.datesEqual / Math.max(1, accuracy.reads),
    accuracyReads: accuracy.reads,
    neverFetchedAtEnd: acc.never,
    utilisation: requests / ((o.measureMs / 60_000) * LIMIT),
    utilisationWhileDue: busy.length ? busy.reduce((n, m) => n + m.sent, 0) / (busy.length * LIMIT) : 0,
    busyShare: busy.length / (o.measureMs / 60_000),
    requests,
    requestsBeforeMeasuring: requestsAtStart,
    rateLimited: stats.rateLimited,
    maxArrivalsInAnyWindow: stats.maxArrivalsInAnyWindow,
    dbWrites: Number(writes),
    realSeconds: (Date.now() - t0) / 1000,
    hourly: hourly.rows(),
    ...(DAYS !== undefined ? { days: perDay.rows() } : {}),
    ...(o.runAll ? { run } : {}),
    ...shoppers.result(),
  }
}

/**
 * Reference accuracy without any engine: each sampled read sees the day as
 * the catalogue answered it `age` ago, age uniform over the refresh interval
 * its offset gets (an ideal schedule at exactly that rate), against what it
 * answers now. Same read mix and count as the simulation's sampling.
 */
function modelAccuracy(
  catalogue: Awaited<ReturnType<typeof startSandbox>>['catalogue'],
  intervalOf: (offset: number) => number,
  hours: number,
): { slots: number; dates: number } {
  const rnd = seededRandom(43)
  const ids = catalogue.productIds()
  let reads = 0
  let slots = 0
  let dates = 0
  for (let t = MEASURE_FROM; t < MEASURE_FROM + hours * 3_600_000; t += SAMPLE_EVERY_MS) {
    for (let i = 0; i < READS_PER_SAMPLE; i++) {
      const id = ids[Math.floor(rnd() * ids.length)]!
      const offset = pickOffset(rnd(), rnd())
      const date = addDays(localDate(t, catalogue.timeZone(id)), offset)
      const seen = normalizeServed(catalogue.inventory(id, date, t - rnd() * intervalOf(offset)), date)
      const truth = normalizeServed(catalogue.inventory(id, date, t), date)
      reads++
      if (JSON.stringify(seen) === JSON.stringify(truth)) slots++
      if (datesEntry(seen) === datesEntry(truth)) dates++
    }
  }
  return { slots: slots / reads, dates: dates / reads }
}

/** The commit measured, marked `+` when the work tree differs from it. */
function gitCommit(): string | undefined {
  const git = (...a: string[]) => spawnSync('git', a, { encoding: 'utf8' })
  const head = git('rev-parse', '--short', 'HEAD')
  if (head.status !== 0) return undefined
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== ''
  return `${head.stdout.trim()}${dirty ? '+' : ''}`
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-sim-'))
  const pg = await startEmbeddedPostgres({ dataDir })
  const strategies: Record<string, PlanStrategy> = { smart: smartStrategy, naive: naiveStrategy }
  const report: SimReport = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    cores: os.cpus().length,
    limit: LIMIT,
    products: PRODUCTS,
    latency: args.latency!,
    warmupHours: WARMUP_MS / 3_600_000,
    day: DAY,
    catalogues: [],
  }
  try {
    for (const shape of args.catalogue!.split(',') as CatalogueShape[]) {
      if (!CATALOGUE_SHAPES.includes(shape)) throw new Error(`unknown catalogue ${shape}`)
      const probe = await startSandbox({ products: PRODUCTS - 2, timeZone: TZ, shape })
      const needs: Needs = dailyNeeds(probe.catalogue, probe.catalogue.productIds(), DAY)
      const targetOf = (offset: number) => TIERS.find((t) => offset >= t.fromOffset && offset <= t.toOffset)!.targetMs
      const totalNeed = TIERS.reduce((n, t) => n + needs[t.name], 0)
      const spread = totalNeed / USABLE_PER_DAY
      // The reference is a property of the catalogue, not of the day: its first measured day at most.
      const refHours = Math.min(24, MEASURE_MS / 3_600_000)
      const accuracyRef = {
        atTargets: modelAccuracy(probe.catalogue, targetOf, refHours),
        budgetSpread: modelAccuracy(probe.catalogue, (off) => targetOf(off) * spread, refHours),
        spread,
      }
      await probe.close()
      const bound = bestOverTimeSeries(probe.catalogue, probe.catalogue.productIds(), {
        from: MEASURE_FROM - WARMUP_MS,
        to: MEASURE_FROM + Math.max(MEASURE_MS, RUN_MS),
        sampleEveryMs: SAMPLE_EVERY_MS,
        perMinute: USABLE_PER_DAY / 1440,
      })
      const bestInTime = bestOverTime(probe.catalogue, probe.catalogue.productIds(), {
        from: MEASURE_FROM,
        to: MEASURE_FROM + MEASURE_MS,
        sampleEveryMs: SAMPLE_EVERY_MS,
        perMinute: USABLE_PER_DAY / 1440,
      })
      const bestInTimeFromMidnight = bestOverTime(probe.catalogue, probe.catalogue.productIds(), {
        from: MEASURE_FROM,
        to: MEASURE_FROM + MEASURE_MS,
        sampleEveryMs: SAMPLE_EVERY_MS,
        perMinute: USABLE_PER_DAY / 1440,
        todayFromMidnight: true,
      })
      const cat: CatalogueReport = {
        shape,
        warmupHours: WARMUP_MS / 3_600_000,
        needs,
        available: LIMIT * 1440,
        usable: USABLE_PER_DAY,
        best: bestShares(needs, USABLE_PER_DAY),
        bestInTime,
        bestInTimeFromMidnight,
        accuracyRef,
        results: [],
      }
      report.catalogues.push(cat)
      process.stderr.write(
        `[${shape}] needs a day: ${JSON.stringify(needs)}; best with ${Math.round(USABLE_PER_DAY)}: ${JSON.stringify(cat.best)}, in time: ${JSON.stringify(bestInTime)} (from midnight: ${JSON.stringify(bestInTimeFromMidnight)})\n`,
      )
      for (const name of args.strategies!.split(',')) {
        const strategy = strategies[name]
        if (!strategy) throw new Error(`unknown strategy ${name}`)
        const r = await simulate({ name, strategy, shape, measureMs: MEASURE_MS, bound }, pg.url, pg.urlFor)
        // Each measured day beside the minute-by-minute bound over that same day.
        for (const [i, d] of (r.days ?? []).entries()) {
          const from = MEASURE_FROM + i * 86_400_000
          d.bound = bestOverTime(probe.catalogue, probe.catalogue.productIds(), {
            from,
            to: from + 86_400_000,
            sampleEveryMs: SAMPLE_EVERY_MS,
            perMinute: USABLE_PER_DAY / 1440,
          })
        }
        cat.results.push(r)
        process.stderr.write(`[${shape}/${name}] done in ${r.realSeconds.toFixed(0)} s: ${JSON.stringify(r)}\n`)
      }
      if (LIVE_PER_HOUR !== undefined) {
        const r = await simulate({ name: 'smart', strategy: smartStrategy, shape, live: true, measureMs: MEASURE_MS, bound }, pg.url, pg.urlFor)
        cat.results.push(r)
        process.stderr.write(`[${shape}/smart+live] done in ${r.realSeconds.toFixed(0)} s: ${JSON.stringify(r.live)}\n`)
      }
      if (RUN_MS > 0 && shape === 'sample') {
        const r = await simulate({ name: 'smart', strategy: smartStrategy, shape, runAll: true, measureMs: RUN_MS, bound }, pg.url, pg.urlFor)
        cat.results.push(r)
        process.stderr.write(`[${shape}/smart+run] done in ${r.realSeconds.toFixed(0)} s: ${JSON.stringify(r)}\n`)
      }
      fs.mkdirSync(path.dirname(OUT), { recursive: true })
      fs.writeFileSync(OUT, JSON.stringify(report, null, 2))
    }
  } finally {
    await pg.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
  process.stdout.write(`\n${formatSimReport(report)}\n`)
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
