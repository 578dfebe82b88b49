/**
 * How long a /metrics scrape and the dashboard's reads take at full size:
 * 450 products × 60 days of fetch state (a mix of fresh, due, overdue, never
 * fetched and failing days) and a day of partner requests at 30/min, seeded
 * straight into an embedded Postgres. Each figure is timed through the real
 * code: the sync status the gauges read, the whole scrape (status + text
 * exposition of every metric), the freshness grid and the budget history.
 *
 *   npm run bench:metrics -- [--products 450] [--reps 30]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { systemClock } from '../server/clock.ts'
import { createDatabase } from '../server/db/client.ts'
import { ensureDatabase, startEmbeddedPostgres } from '../server/db/embedded-postgres.ts'
import { applyMigrations } from '../server/db/migrate.ts'
import { silentLogger } from '../server/logger.ts'
import { createMetrics } from '../server/observability/metrics.ts'
import { createSyncReads } from '../server/observability/sync-reads.ts'
import { createSync } from '../server/sync/index.ts'

const { values: args } = parseArgs({ options: { products: { type: 'string', default: '450' }, reps: { type: 'string', default: '30' } } })
const PRODUCTS = Number(args.products)
const REPS = Number(args.reps)

async function time(what: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 3; i++) await fn() // warm-up: plans cached, pool connections open
  const ms: number[] = []
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now()
    await fn()
    ms.push(performance.now() - t0)
  }
  ms.sort((a, b) => a - b)
  return { what, medianMs: ms[Math.floor(REPS / 2)]!, p90Ms: ms[Math.floor(REPS * 0.9)]!, maxMs: ms.at(-1)! }
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-metrics-'))
  const pg = await startEmbeddedPostgres({ dataDir })
  try {
    await ensureDatabase(pg.url, 'bench_metrics')
    await applyMigrations(pg.urlFor('bench_metrics'))
    const db = createDatabase(pg.urlFor('bench_metrics'))
    const now = Date.now()
    const q = (sql: string, p: unknown[] = []) => db.prisma.$executeRawUnsafe(sql, ...p)
    await q(`INSERT INTO product (id, time_zone) SELECT 1000 + g, 'Asia/Singapore' FROM generate_series(1, $1) g`, [PRODUCTS])
    // Per pair: ~8 % never fetched, the rest fetched 0–36 h ago; due 0–24 h either side of now; 1 % failing.
    await q(
      `INSERT INTO day_fetch_state (product_id, date, last_fetched_at, last_attempt_at, next_due_at, consecutive_failures, last_error, last_outcome)
       SELECT p.id, ($1::timestamptz AT TIME ZONE 'Asia/Singapore')::date + d,
              CASE WHEN random() < 0.08 THEN NULL ELSE $1::timestamptz - random() * interval '36 hours' END,
              $1::timestamptz - random() * interval '1 hour',
              $1::timestamptz + (random() - 0.5) * interval '48 hours',
              CASE WHEN random() < 0.01 THEN 2 ELSE 0 END, 'error: HTTP 503', 'ok'
       FROM product p, generate_series(0, 59) d`,
      [new Date(now)],
    )
    await q(`INSERT INTO partner_request (sent_at, instance_id) SELECT $1::timestamptz - g * interval '2 seconds', 'bench' FROM generate_series(0, 43199) g`, [
      new Date(now),
    ])
    await q('ANALYZE')

    const sync = createSync({
      db,
      clock: systemClock,
      logger: silentLogger,
      partner: { baseUrl: 'http://127.0.0.1:9', apiKey: '', sandbox: false },
      limitPerMinute: 30,
      timeZone: 'Asia/Singapore',
    })
    const metrics = createMetrics({ syncStatus: () => sync.control.status() })
    const bare = createMetrics({ syncStatus: () => undefined })
    const reads = createSyncReads({ prisma: db.prisma, clock: systemClock })
    const scrape = await metrics.scrape()
    const results = [
      await time('sync status (what the gauges read)', () => sync.control.status()),
      await time('/metrics scrape (status + exposition)', () => metrics.scrape()),
      await time('/metrics scrape without sync gauges (baseline)', () => bare.scrape()),
      await time('sync.freshness (grid)', () => reads.freshness()),
      await time('sync.budgetHistory (last hour)', () => reads.budgetHistory()),
    ]
    console.log(
      `\n${PRODUCTS} products × 60 days = ${PRODUCTS * 60} pairs, ${REPS} reps each, ${os.cpus().length} cores; scrape body ${(scrape.body.length / 1024).toFixed(1)} KiB`,
    )
    console.log('| read | median ms | p90 ms | max ms |\n|---|---|---|---|')
    for (const r of results) console.log(`| ${r.what} | ${r.medianMs.toFixed(1)} | ${r.p90Ms.toFixed(1)} | ${r.maxMs.toFixed(1)} |`)
    const grid = await reads.freshness()
    console.log(`freshness grid: ${grid.products.length} products, JSON ${(JSON.stringify(grid).length / 1024).toFixed(0)} KiB`)
    await db.close()
  } finally {
    await pg.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
