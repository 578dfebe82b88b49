/**
 * How fast the public API answers from Postgres, next to a bare Fastify route
 * returning the same JSON from memory, in one run on the same machine:
 * req/s and p99 latency for /slots and /dates, and the ratio.
 * Target: ratio ≥ 0.5 and p99 < 10 ms.
 *
 * The API runs twice: reading Postgres on every request, and with the
 * availability read cache (--cache-ms, the value to deploy with).
 *
 *   npm run bench:api -- [--products 50] [--seconds 5] [--connections 10] [--cache-ms 1000]
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { registerApi } from '../server/api/index.ts'
import type { SyncService } from '../server/api/services.ts'
import { createAvailabilityService } from '../server/availability/service.ts'
import { horizonAt } from '../server/calendar/horizon.ts'
import { systemClock } from '../server/clock.ts'
import { createDatabase } from '../server/db/client.ts'
import { ensureDatabase, startEmbeddedPostgres } from '../server/db/embedded-postgres.ts'
import { createHealthService } from '../server/db/health.ts'
import { createSyncReads } from '../server/observability/sync-reads.ts'
import { applyMigrations } from '../server/db/migrate.ts'
import { validateDay } from '../server/partner/schema.ts'
import { createCatalogue } from '../server/sandbox/catalogue.ts'
import { writeDaySnapshot } from '../server/sync/snapshot.ts'
import { addDays } from '../server/calendar/days.ts'
import { octoRoutes } from '../server/octo/routes.ts'
import { calendarBody, OCTO_BENCH_KEY, octoHeaders, queriesPerRequest } from './api-octo.ts'
import { createCatalogueService } from '../server/catalogue/service.ts'
import { createChangeFeed } from '../server/changes/feed.ts'

const { values: args } = parseArgs({
  options: {
    products: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench/out/api.json' },
    'cache-ms': { type: 'string', default: '1000' },
  },
})
const PRODUCTS = Number(args.products)
const SECONDS = Number(args.seconds)
const CONNECTIONS = Number(args.connections)
const TZ = 'Asia/Singapore'
const CACHE_MS = Number(args['cache-ms'])

const notHere = async (): Promise<never> => {
  throw new Error('sync is not part of this benchmark')
}
const noSync: SyncService = { pause: notHere, resume: notHere, run: notHere, status: notHere }

async function seed(pool: import('pg').Pool): Promise<number> {
  const catalogue = createCatalogue({ seed: 7, products: Math.max(0, PRODUCTS - 2), timeZone: TZ })
  const ids = catalogue.productIds()
  await pool.query('INSERT INTO product (id, time_zone) SELECT unnest($1::int[]), $2', [ids, TZ])
  const now = systemClock.now()
  const { today } = horizonAt(now, TZ)
  const jobs = ids.flatMap((id) => Array.from({ length: 60 }, (_, i) => [id, addDays(today, i)] as const))
  let slots = 0
  // A few writers at once, as the sync engine would.
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let job = jobs.pop(); job; job = jobs.pop()) {
        const [id, date] = job
        const v = validateDay(catalogue.inventory(id, date, now), date)
        if (!v.ok) throw new Error(`catalogue answer invalid: ${v.reason}`)
        slots += v.slots.length
        await writeDaySnapshot(pool, { productId: id, date, slots: v.slots, fetchedAt: new Date(now) })
      }
    }),
  )
  await pool.query('ANALYZE')
  return slots
}

async function measure(url: string, request: Partial<Parameters<typeof autocannon>[0]> = {}) {
  await autocannon({ url, connections: CONNECTIONS, duration: 1, ...request }) // warm-up: JIT, prepared statements, pool
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, ...request })
  if (r.errors || r.timeouts || r.non2xx) throw new Error(`${url}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`)
  return { reqPerSec: Math.round(r.requests.average), p99Ms: r.latency.p99, p50Ms: r.latency.p50 }
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-api-'))
  const pg = await startEmbeddedPostgres({ dataDir })
  const closers: (() => Promise<unknown>)[] = [async () => pg.stop(), async () => fs.rmSync(dataDir, { recursive: true, force: true })]
  try {
    await ensureDatabase(pg.url, 'bench_api')
    await applyMigrations(pg.urlFor('bench_api'))
    const db = createDatabase(pg.urlFor('bench_api'))
    closers.unshift(() => db.close())
    const t0 = Date.now()
    const slotCount = await seed(db.pool)
    console.log(`seeded ${PRODUCTS} products × 60 days (${slotCount} slots) in ${((Date.now() - t0) / 1000).toFixed(1)} s`)

    const servers = []
    for (const cacheTtlMs of [0, CACHE_MS]) {
      const app = Fastify({ logger: false })
      const availability = createAvailabilityService({ pool: db.pool, clock: systemClock, defaultTimeZone: TZ, cacheTtlMs })
      // The real plugins (security headers, rate limit, tRPC, swagger) stay on; the limit is just out of reach.
      // The catalogue and change feed are not measured here; the feed is never started (no LISTEN connection).
      const catalogue = createCatalogueService({ prisma: db.prisma, clock: systemClock, defaultTimeZone: TZ })
      const changes = createChangeFeed({ connectionString: pg.urlFor('bench_api'), pool: db.pool, logger: { info() {}, warn() {} } })
      const syncReads = createSyncReads({ prisma: db.prisma, clock: systemClock })
      await registerApi(app, { services: { availability, sync: noSync, health: createHealthService(db.prisma), syncReads, catalogue, changes }, adminToken: randomBytes(16).toString('hex'), rateLimitPerMinute: 1e9 })
      await app.register(octoRoutes, { availability, apiKeys: [OCTO_BENCH_KEY] })
      servers.push({ name: cacheTtlMs ? `api, cache ${cacheTtlMs} ms` : 'api, no cache', url: await app.listen({ port: 0, host: '127.0.0.1' }), app })
      closers.unshift(() => app.close())
    }
    const app = servers[0]!.app

    // The first open day of product 14: the same answer every server gives.
    const dates = (await app.inject({ url: '/api/v1/experience/14/dates' })).json() as { dates: { date: string }[] }
    const day = dates.dates[0]?.date
    if (!day) throw new Error('product 14 has no open day in the horizon')
    const routes = { slots: `/api/v1/experience/14/slots?date=${day}`, dates: '/api/v1/experience/14/dates' }
    const bodies = {
      slots: (await app.inject({ url: routes.slots })).json(),
      dates: (await app.inject({ url: routes.dates })).json(),
    }
    const octoRequest = { method: 'POST', headers: octoHeaders, body: JSON.stringify(calendarBody(14, TZ)) }
    const calendar = (await app.inject({ method: 'POST', url: '/octo/availability/calendar', headers: octoHeaders, payload: octoRequest.body })).json()
    const bare = Fastify({ logger: false })
    bare.get('/slots', async () => bodies.slots)
    bare.get('/dates', async () => bodies.dates)
    bare.post('/octo-calendar', async () => calendar)
    const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' })
    closers.unshift(() => bare.close())

    const results = []
    for (const name of ['slots', 'dates'] as const) {
      const mem = await measure(`${bareUrl}/${name}`)
      for (const s of servers) {
        const api = await measure(s.url + routes[name])
        results.push({ route: name, server: s.name, api, bare: mem, ratio: Math.round((api.reqPerSec / mem.reqPerSec) * 100) / 100, bytes: JSON.stringify(bodies[name]).length })
      }
    }

    // The 60-day OCTO calendar beside /dates: same servers, same run.
    const octo = []
    for (const s of servers) {
      const api = await measure(`${s.url}/octo/availability/calendar`, octoRequest)
      const mem = await measure(`${bareUrl}/octo-calendar`, octoRequest)
      results.push({ route: 'octo-calendar', server: s.name, api, bare: mem, ratio: Math.round((api.reqPerSec / mem.reqPerSec) * 100) / 100, bytes: JSON.stringify(calendar).length })
      const dates = results.find((r) => r.route === 'dates' && r.server === s.name)!.api
      octo.push({ server: s.name, calendar: api, dates, ratioToDates: Math.round((api.reqPerSec / dates.reqPerSec) * 100) / 100 })
    }
    const queries = await queriesPerRequest(db, 14, TZ, noSync)

    console.log(`\n${CONNECTIONS} connections, ${SECONDS} s per run, one process, ${os.cpus().length} cores\n`)
    console.log('route  server                  req/s     p99   bare req/s  bare p99  ratio   body')
    for (const r of results) {
      console.log(
        `${r.route.padEnd(6)} ${r.server.padEnd(20)} ${String(r.api.reqPerSec).padStart(8)}  ${`${r.api.p99Ms} ms`.padStart(6)}  ${String(r.bare.reqPerSec).padStart(10)}  ${`${r.bare.p99Ms} ms`.padStart(8)}  ${r.ratio.toFixed(2).padStart(5)}  ${r.bytes} B`,
      )
    }
    console.log(`\nOCTO calendar (60 days, octo/pricing) beside /dates; statements per request: calendar ${queries.calendar}, /dates ${queries.dates}`)
    for (const o of octo) console.log(`  ${o.server.padEnd(20)} calendar ${o.calendar.reqPerSec} req/s (p99 ${o.calendar.p99Ms} ms), /dates ${o.dates.reqPerSec} req/s: ratio ${o.ratioToDates.toFixed(2)}`)
    // The target is the one set for /slots and /dates; the calendar's figure is its ratio to /dates above.
    const ok = results.filter((r) => r.server !== 'api, no cache' && r.route !== 'octo-calendar').every((r) => r.ratio >= 0.5 && r.api.p99Ms < 10)
    console.log(`\ntarget with the cache (ratio ≥ 0.5, p99 < 10 ms): ${ok ? 'met' : 'NOT met'}`)
    fs.mkdirSync(path.dirname(args.out!), { recursive: true })
    fs.writeFileSync(args.out!, JSON.stringify({ at: new Date().toISOString(), products: PRODUCTS, seconds: SECONDS, connections: CONNECTIONS, cacheMs: CACHE_MS, results, octo: { queriesPerRequest: queries, servers: octo } }, null, 2) + '\n')
  } finally {
    for (const close of closers) await close().catch(() => {})
  }
}

await main()
