/**
 * How fast the public API answers from Postgres under traffic spread over the
 * whole catalogue, next to a bare Fastify route returning the same JSON from
 * memory for the same keys, in one run on the same machine.
 *
 * 450 products × 60 days are written through the real snapshot writer from
 * the sandbox catalogue. Each request draws its key (a product and day for
 * /slots, a product for /dates and the OCTO calendar) uniformly or from a
 * Zipf-like hot set. The API runs with the read cache off and on. The load
 * generator (bench/api-load.ts, autocannon) runs in a child process so it
 * does not share the server's event loop. The machine is shared, so the bare
 * route, both API servers and the floors (bench/api-floor.ts: the bare route
 * plus one Prisma or pg round trip, the ceiling of any Postgres-backed read)
 * are measured in turn, `--rounds` times, and each figure is the median over
 * rounds (a ratio: the median of per-round ratios).
 * Target without the cache: ratio ≥ 0.5 and p99 < 10 ms for /slots and /dates.
 * The API servers count reads as production does (sync/demand.ts); what
 * counting costs a /slots read is measured after the loads (bench/api-count.ts;
 * target < 2 %). `--counting-only` measures only that.
 *
 *   npm run bench:api -- [--products 450] [--seconds 5] [--rounds 3] [--connections 10] [--cache-ms 1000] [--zipf-s 1] [--counting-only]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { FastifyInstance } from 'fastify'
import { addDays } from '../server/calendar/days.ts'
import { horizonAt } from '../server/calendar/horizon.ts'
import { systemClock } from '../server/clock.ts'
import { createDatabase } from '../server/db/client.ts'
import { ensureDatabase, startEmbeddedPostgres } from '../server/db/embedded-postgres.ts'
import { applyMigrations } from '../server/db/migrate.ts'
import { createReadCounter } from '../server/sync/demand.ts'
import { measureCountingCost, type CountingCost } from './api-count.ts'
import { floorServer, memoryServer } from './api-floor.ts'
import type { Distribution, LoadJob, LoadKey, LoadResult } from './api-load.ts'
import { calendarBody, octoHeaders, queriesPerRequest } from './api-octo.ts'
import { apiServer, benchCatalogue, DAYS, load, noSync, preload, seed, TZ } from './api-setup.ts'

const { values: args } = parseArgs({
  options: {
    products: { type: 'string', default: '450' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench/out/api.json' },
    'cache-ms': { type: 'string', default: '1000' },
    'zipf-s': { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    'counting-only': { type: 'boolean', default: false },
  },
})
const PRODUCTS = Number(args.products)
const SECONDS = Number(args.seconds)
const CONNECTIONS = Number(args.connections)
const CACHE_MS = Number(args['cache-ms'])
const ZIPF_S = Number(args['zipf-s'])
const ROUNDS = Number(args.rounds)
const DISTRIBUTIONS: Distribution[] = ['uniform', 'zipf']

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
/** The round with the median rate, so its p99 and its rate belong together. */
const medianRun = (runs: LoadResult[]) => [...runs].sort((a, b) => a.reqPerSec - b.reqPerSec)[Math.floor(runs.length / 2)]!

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-api-'))
  const pg = await startEmbeddedPostgres({ dataDir })
  const closers: (() => Promise<unknown>)[] = [async () => pg.stop(), async () => fs.rmSync(dataDir, { recursive: true, force: true })]
  try {
    await ensureDatabase(pg.url, 'bench_api')
    await applyMigrations(pg.urlFor('bench_api'))
    const db = createDatabase(pg.urlFor('bench_api'))
    closers.unshift(() => db.close())
    const now = systemClock.now()
    const { today } = horizonAt(now, TZ)
    const ids = benchCatalogue(PRODUCTS).productIds()
    const t0 = Date.now()
    const slotCount = await seed(db, PRODUCTS, today, now)
    console.log(`seeded ${ids.length} products × ${DAYS} days (${slotCount} slots) in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    const countingCost = async (): Promise<CountingCost[]> => {
      const keys = ids.flatMap((productId) => Array.from({ length: DAYS }, (_, i) => ({ productId, date: addDays(today, i) })))
      const out: CountingCost[] = []
      for (const cacheMs of [CACHE_MS, 0]) {
        const c = await measureCountingCost({ db, url: pg.urlFor('bench_api'), keys, cacheMs, zipfS: ZIPF_S })
        out.push(c)
        console.log(
          `read counting, /slots, ${cacheMs ? `cache ${cacheMs} ms` : 'no cache'}: read ${c.readUs} µs CPU (${c.readCountedUs} counted); record ${c.recordNs} ns + flush ${c.flushNsPerRead} ns a read = ${(c.directShare * 100).toFixed(3)} % of the read; A/B ${(c.abShare * 100).toFixed(2)} %`,
        )
      }
      const met = out.every((c) => c.directShare < 0.02)
      console.log(`target (counting < 2 % of a /slots read's time): ${met ? 'met' : 'NOT met'}`)
      return out
    }
    if (args['counting-only']) {
      await countingCost()
      return
    }

    const servers: { name: string; cache: boolean; floor?: boolean; url: string }[] = []
    const apps: FastifyInstance[] = []
    for (const cacheTtlMs of [0, CACHE_MS]) {
      // Reads counted as production counts them (never flushed here: the counts stay in memory).
      const app = await apiServer(db, pg.urlFor('bench_api'), cacheTtlMs, createReadCounter({ db: db.prisma, clock: systemClock }))
      closers.unshift(() => app.close())
      apps.push(app)
      servers.push({
        name: cacheTtlMs ? `api, cache ${cacheTtlMs} ms` : 'api, no cache',
        cache: cacheTtlMs > 0,
        url: await app.listen({ port: 0, host: '127.0.0.1' }),
      })
    }

    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-keys-'))
    closers.push(async () => fs.rmSync(keyDir, { recursive: true, force: true }))
    const octoBodies = new Map(ids.map((id) => [id, JSON.stringify(calendarBody(id, TZ))]))
    const routes = {
      slots: {
        method: 'GET' as const,
        headers: {},
        keys: ids.flatMap((id) => Array.from({ length: DAYS }, (_, i): LoadKey => ({ path: `/api/v1/experience/${id}/slots?date=${addDays(today, i)}` }))),
      },
      dates: { method: 'GET' as const, headers: {}, keys: ids.map((id): LoadKey => ({ path: `/api/v1/experience/${id}/dates` })) },
      'octo-calendar': {
        method: 'POST' as const,
        headers: octoHeaders,
        keys: ids.map((id): LoadKey => ({ path: '/octo/availability/calendar', body: octoBodies.get(id)! })),
      },
    }

    // The baseline: the same URLs on a bare Fastify, answering each key's JSON from memory.
    const t1 = Date.now()
    const bodies = {
      slots: await preload(apps[0]!, routes.slots.keys, 'GET'),
      dates: await preload(apps[0]!, routes.dates.keys, 'GET'),
      'octo-calendar': await preload(apps[0]!, routes['octo-calendar'].keys, 'POST', octoHeaders),
    }
    console.log(`preloaded ${bodies.slots.size + bodies.dates.size + bodies['octo-calendar'].size} answers in ${((Date.now() - t1) / 1000).toFixed(1)} s`)
    const bare = memoryServer(bodies)
    const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' })
    closers.unshift(() => bare.close())
    // The ceiling, measured in the same rounds: the bare route plus one database round trip.
    for (const kind of ['prisma', 'pg'] as const) {
      const floor = floorServer(kind, bodies, db, pg.urlFor('bench_api'))
      closers.unshift(() => floor.close())
      servers.push({
        name: `floor, ${kind === 'prisma' ? 'Prisma' : 'pg'} SELECT 1`,
        cache: false,
        floor: true,
        url: await floor.app.listen({ port: 0, host: '127.0.0.1' }),
      })
    }

    const results: {
      route: keyof typeof routes
      distribution: Distribution
      server: string
      cache: boolean
      floor: boolean
      api: LoadResult
      bare: LoadResult
      ratio: number
      ratios: number[]
      meanBytes: number
      keys: number
    }[] = []
    for (const [route, spec] of Object.entries(routes) as [keyof typeof routes, (typeof routes)[keyof typeof routes]][]) {
      const keysFile = path.join(keyDir, `${route}.json`)
      fs.writeFileSync(keysFile, JSON.stringify(spec.keys))
      const meanBytes = Math.round([...bodies[route].values()].reduce((n: number, b) => n + JSON.stringify(b).length, 0) / bodies[route].size)
      // The OCTO calendar is measured beside /dates for its ratio; one distribution is enough there.
      for (const distribution of route === 'octo-calendar' ? (['uniform'] as const) : DISTRIBUTIONS) {
        const job = (url: string): LoadJob => ({
          url,
          keysFile,
          distribution,
          zipfS: ZIPF_S,
          connections: CONNECTIONS,
          seconds: SECONDS,
          warmupSeconds: 1,
          method: spec.method,
          headers: spec.headers,
          seed: 42,
        })
        const bareRuns: LoadResult[] = []
        const apiRuns = servers.map((): LoadResult[] => [])
        for (let round = 0; round < ROUNDS; round++) {
          bareRuns.push(await load(job(bareUrl)))
          for (const [i, s] of servers.entries()) apiRuns[i]!.push(await load(job(s.url)))
        }
        for (const r of [...bareRuns, ...apiRuns.flat()])
          if (r.errors || r.timeouts || r.non2xx) throw new Error(`${route} ${distribution}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`)
        const base = medianRun(bareRuns)
        for (const [i, s] of servers.entries()) {
          const runs = apiRuns[i]!
          const api = medianRun(runs)
          const r = ratio(median(runs.map((a, k) => a.reqPerSec / bareRuns[k]!.reqPerSec)), 1)
          results.push({
            route,
            distribution,
            server: s.name,
            cache: s.cache,
            floor: s.floor ?? false,
            api,
            bare: base,
            ratio: r,
            ratios: runs.map((a, k) => ratio(a.reqPerSec, bareRuns[k]!.reqPerSec)),
            meanBytes,
            keys: spec.keys.length,
          })
          console.log(
            `${route} ${distribution} ${s.name}: ${api.reqPerSec} req/s p99 ${api.p99Ms} ms; bare ${base.reqPerSec} req/s p99 ${base.p99Ms} ms; ratio ${r} (rounds ${runs.map((a, k) => ratio(a.reqPerSec, bareRuns[k]!.reqPerSec)).join(', ')})`,
          )
        }
      }
    }
    const counting = await countingCost()
    const queries = await queriesPerRequest(db, 14, TZ, noSync)
    const load1 = os.loadavg()

    console.log(
      `\n${ids.length} products × ${DAYS} days, ${CONNECTIONS} connections, ${SECONDS} s per run, median of ${ROUNDS} rounds, load generator in its own process, ${os.cpus().length} cores, load average ${load1.map((l) => l.toFixed(1)).join(' ')}\n`,
    )
    console.log('route          keys     server                 req/s     p99  bare req/s  bare p99  ratio  mean body')
    for (const r of results) {
      console.log(
        `${r.route.padEnd(14)} ${r.distribution.padEnd(8)} ${r.server.padEnd(20)} ${String(r.api.reqPerSec).padStart(8)} ${`${r.api.p99Ms} ms`.padStart(7)} ${String(r.bare.reqPerSec).padStart(11)} ${`${r.bare.p99Ms} ms`.padStart(9)} ${r.ratio.toFixed(2).padStart(6)}  ${r.meanBytes} B`,
      )
    }
    const octo = servers
      .filter((s) => !s.floor)
      .map((s) => {
        const cal = results.find((r) => r.route === 'octo-calendar' && r.server === s.name)!
        const dates = results.find((r) => r.route === 'dates' && r.distribution === 'uniform' && r.server === s.name)!
        return { server: s.name, calendar: cal.api, calendarRatio: cal.ratio, dates: dates.api, ratioToDates: ratio(cal.api.reqPerSec, dates.api.reqPerSec) }
      })
    console.log(
      `\nOCTO calendar (60 days, octo/pricing, uniform over products) beside /dates; statements per request: calendar ${queries.calendar}, /dates ${queries.dates}`,
    )
    for (const o of octo)
      console.log(
        `  ${o.server.padEnd(20)} calendar ${o.calendar.reqPerSec} req/s (p99 ${o.calendar.p99Ms} ms), /dates ${o.dates.reqPerSec} req/s: ratio ${o.ratioToDates.toFixed(2)}`,
      )
    const target = results.filter((r) => !r.cache && !r.floor && r.route !== 'octo-calendar')
    const met = target.every((r) => r.ratio >= 0.5 && r.api.p99Ms < 10)
    const ceilings = results.filter((r) => r.floor && r.route !== 'octo-calendar').map((r) => `${r.route} ${r.distribution} ${r.server}: ${r.ratio}`)
    console.log(`\nceiling (the bare route + one round trip, same rounds):\n  ${ceilings.join('\n  ')}`)
    console.log(`\ntarget without the cache (ratio ≥ 0.5, p99 < 10 ms, /slots and /dates, both distributions): ${met ? 'met' : 'NOT met'}`)
    fs.mkdirSync(path.dirname(args.out!), { recursive: true })
    fs.writeFileSync(
      args.out!,
      `${JSON.stringify({ at: new Date().toISOString(), products: ids.length, days: DAYS, slots: slotCount, seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, cacheMs: CACHE_MS, zipfS: ZIPF_S, cores: os.cpus().length, loadAverage: load1, results, octo: { queriesPerRequest: queries, servers: octo }, counting, targetMet: met }, null, 2)}\n`,
    )
  } finally {
    for (const close of closers) await close().catch(() => {})
  }
}

await main()
