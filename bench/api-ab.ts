/**
 * Before and after in the same rounds: the API of another checkout (its own
 * server code and Prisma client, e.g. a `git worktree add --detach` of the
 * commit before a change, with this bench/api-setup.ts copied in) and this
 * checkout's, on one database, beside the bare route and the Prisma floor
 * (bench/api-floor.ts), all without the read cache. On a machine others
 * share, ratios from separate runs move with their load; measured in turn
 * round by round, route ÷ floor compares the two codes under the same load.
 *
 *   node --import tsx bench/api-ab.ts --before /path/to/other/checkout [--rounds 5] [--seconds 4] [--products 450] [--routes slots,dates] [--distributions uniform,zipf]
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
import { type Answers, floorServer, memoryServer } from './api-floor.ts'
import type { Distribution, LoadKey, LoadResult } from './api-load.ts'
import { apiServer, benchCatalogue, DAYS, load, preload, seed, TZ } from './api-setup.ts'

const { values: args } = parseArgs({
  options: {
    before: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '4' },
    products: { type: 'string', default: '450' },
    connections: { type: 'string', default: '10' },
    routes: { type: 'string', default: 'slots,dates' },
    distributions: { type: 'string', default: 'uniform,zipf' },
  },
})
if (!args.before) throw new Error('--before <checkout> is required')
const BEFORE = path.resolve(args.before)
const PRODUCTS = Number(args.products)
const ROUNDS = Number(args.rounds)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const r2 = (x: number) => Math.round(x * 100) / 100

async function main() {
  const before = (await import(path.join(BEFORE, 'bench/api-setup.ts'))) as typeof import('./api-setup.ts')
  const beforeDb = (await import(path.join(BEFORE, 'server/db/client.ts'))) as typeof import('../server/db/client.ts')
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-ab-'))
  const pg = await startEmbeddedPostgres({ dataDir })
  const closers: (() => Promise<unknown>)[] = [async () => pg.stop(), async () => fs.rmSync(dataDir, { recursive: true, force: true })]
  try {
    await ensureDatabase(pg.url, 'bench_api')
    const url = pg.urlFor('bench_api')
    // This checkout's migrations: a superset of the other's (added objects only), so both codes read the same tables.
    await applyMigrations(url)
    const db = createDatabase(url)
    const dbBefore = beforeDb.createDatabase(url)
    closers.unshift(
      () => db.close(),
      () => dbBefore.close(),
    )
    const now = systemClock.now()
    const { today } = horizonAt(now, TZ)
    const ids = benchCatalogue(PRODUCTS).productIds()
    const slots = await seed(db, PRODUCTS, today, now)
    const after = await apiServer(db, url, 0)
    const old = (await before.apiServer(dbBefore as never, url, 0)) as unknown as FastifyInstance
    closers.unshift(
      () => after.close(),
      () => old.close(),
    )
    const keys = {
      slots: ids.flatMap((id) => Array.from({ length: DAYS }, (_, i): LoadKey => ({ path: `/api/v1/experience/${id}/slots?date=${addDays(today, i)}` }))),
      dates: ids.map((id): LoadKey => ({ path: `/api/v1/experience/${id}/dates` })),
    }
    const bodies: Answers = { slots: await preload(after, keys.slots, 'GET'), dates: await preload(after, keys.dates, 'GET'), 'octo-calendar': new Map() }
    // The two codes must answer alike before their speed is compared.
    for (const k of [...keys.slots.slice(0, 200), ...keys.dates]) {
      const [a, b] = await Promise.all([after.inject({ url: k.path }), old.inject({ url: k.path })])
      if (a.body !== b.body) throw new Error(`${k.path}: the two checkouts answer differently`)
    }
    const bare = memoryServer(bodies)
    const floor = floorServer('prisma', bodies, db, url)
    closers.unshift(
      () => bare.close(),
      () => floor.close(),
    )
    const servers: [string, string][] = [
      ['bare route', await bare.listen({ port: 0, host: '127.0.0.1' })],
      ['Prisma floor', await floor.app.listen({ port: 0, host: '127.0.0.1' })],
      ['before', await old.listen({ port: 0, host: '127.0.0.1' })],
      ['after', await after.listen({ port: 0, host: '127.0.0.1' })],
    ]
    console.log(
      `${ids.length} products × ${DAYS} days (${slots} slots); before: ${BEFORE}; ${ROUNDS} rounds of ${args.seconds} s; load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    )
    const out: unknown[] = []
    for (const route of args.routes!.split(',') as ('slots' | 'dates')[]) {
      const keysFile = path.join(dataDir, `${route}.json`)
      fs.writeFileSync(keysFile, JSON.stringify(keys[route]))
      for (const distribution of args.distributions!.split(',') as Distribution[]) {
        const runs = servers.map((): LoadResult[] => [])
        for (let round = 0; round < ROUNDS; round++) {
          for (const [i, [, u]] of servers.entries()) {
            runs[i]!.push(
              await load({
                url: u,
                keysFile,
                distribution,
                zipfS: 1,
                connections: Number(args.connections),
                seconds: Number(args.seconds),
                warmupSeconds: 1,
                method: 'GET',
                headers: {},
                seed: 42,
              }),
            )
          }
        }
        for (const r of runs.flat()) if (r.errors || r.timeouts || r.non2xx) throw new Error(`${route} ${distribution}: errors in a run`)
        const per = (i: number, j: number) => runs[i]!.map((r, k) => r2(r.reqPerSec / runs[j]![k]!.reqPerSec))
        const line = servers.map(([name], i) => {
          const rate = median(runs[i]!.map((r) => r.reqPerSec))
          const p99 = median(runs[i]!.map((r) => r.p99Ms))
          return { name, reqPerSec: rate, p99Ms: p99, ofBare: per(i, 0), ofFloor: per(i, 1) }
        })
        out.push({ route, distribution, servers: line })
        console.log(`\n${route} ${distribution}`)
        for (const l of line)
          console.log(
            `  ${l.name.padEnd(13)} ${String(l.reqPerSec).padStart(6)} req/s  p99 ${String(l.p99Ms).padStart(3)} ms  ÷ bare ${r2(median(l.ofBare)).toFixed(2)} (${l.ofBare.join(', ')})  ÷ floor ${r2(median(l.ofFloor)).toFixed(2)} (${l.ofFloor.join(', ')})`,
          )
      }
    }
    console.log(
      `\nload average at the end ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    )
    fs.mkdirSync('bench/out', { recursive: true })
    fs.writeFileSync(
      'bench/out/api-ab.json',
      `${JSON.stringify({ at: new Date().toISOString(), before: BEFORE, rounds: ROUNDS, loadAverage: os.loadavg(), results: out }, null, 2)}\n`,
    )
  } finally {
    for (const close of closers) await close().catch(() => {})
  }
}

await main()
