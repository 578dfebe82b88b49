/**
 * What a node setting costs on the read path, in CPU rather than wall time
 * (which another process on the cores moves): the public API as production
 * mounts it (bench/api-setup.ts), read cache off, so every read is a Prisma
 * query (its query compiler is WebAssembly); `--products` products × 60 days
 * written through the snapshot writer; after `--warmup` passes (JIT and
 * WebAssembly tier-up), `--passes` passes over every /slots and /dates key
 * through `inject`, one at a time, timing this process's CPU (user + system;
 * Postgres runs apart). Prints CPU µs per read, each pass and the median.
 *
 *   [MALLOC_ARENA_MAX=2] node [--liftoff-only ...] --import tsx bench/read-cpu.ts [--products 20] [--warmup 3] [--passes 5]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { addDays } from '../server/calendar/days.ts'
import { horizonAt } from '../server/calendar/horizon.ts'
import { systemClock } from '../server/clock.ts'
import { createDatabase } from '../server/db/client.ts'
import { ensureDatabase, startEmbeddedPostgres } from '../server/db/embedded-postgres.ts'
import { applyMigrations } from '../server/db/migrate.ts'
import { apiServer, benchCatalogue, DAYS, seed, TZ } from './api-setup.ts'

const { values: args } = parseArgs({
  options: { products: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' }, passes: { type: 'string', default: '5' } },
})

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-bench-cpu-'))
const pg = await startEmbeddedPostgres({ dataDir })
try {
  await ensureDatabase(pg.url, 'bench_cpu')
  await applyMigrations(pg.urlFor('bench_cpu'))
  const db = createDatabase(pg.urlFor('bench_cpu'))
  const now = systemClock.now()
  const { today } = horizonAt(now, TZ)
  await seed(db, Number(args.products), today, now)
  const app = await apiServer(db, pg.urlFor('bench_cpu'), 0)
  const ids = benchCatalogue(Number(args.products)).productIds()
  const urls = ids.flatMap((id) => [
    `/api/v1/experience/${id}/dates`,
    ...Array.from({ length: DAYS }, (_, i) => `/api/v1/experience/${id}/slots?date=${addDays(today, i)}`),
  ])
  const pass = async () => {
    const c0 = process.cpuUsage()
    for (const url of urls) {
      const r = await app.inject({ method: 'GET', url })
      if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode}`)
    }
    const c = process.cpuUsage(c0)
    return (c.user + c.system) / urls.length
  }
  for (let i = 0; i < Number(args.warmup); i++) await pass()
  const perRead: number[] = []
  for (let i = 0; i < Number(args.passes); i++) perRead.push(await pass())
  const median = [...perRead].sort((a, b) => a - b)[Math.floor(perRead.length / 2)]!
  console.log(
    `node ${process.execArgv.filter((a) => a !== '--import' && a !== 'tsx').join(' ') || '(defaults)'} MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? '-'}: ` +
      `${urls.length} reads a pass, CPU µs per read ${perRead.map((v) => v.toFixed(0)).join(', ')}; median ${median.toFixed(0)}; load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  )
  await app.close()
  await db.close()
} finally {
  await pg.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
}
