/**
 * What bench/api.ts and bench/api-profile.ts share: the catalogue written
 * through the real snapshot writer, the API server as production mounts it,
 * and the preload of every key's answer for the memory-backed servers.
 */
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import { registerApi } from '../server/api/index.ts'
import type { SyncService } from '../server/api/services.ts'
import { createAvailabilityService, type ReadRecorder } from '../server/availability/service.ts'
import { addDays } from '../server/calendar/days.ts'
import { createCatalogueService } from '../server/catalogue/service.ts'
import { createChangeFeed } from '../server/changes/feed.ts'
import { systemClock } from '../server/clock.ts'
import type { Database } from '../server/db/client.ts'
import { createHealthService } from '../server/db/health.ts'
import { createSyncReads } from '../server/observability/sync-reads.ts'
import { createAuditService } from '../server/audit/service.ts'
import { silentLogger } from '../server/logger.ts'
import { octoRoutes } from '../server/octo/routes.ts'
import { validateDay } from '../server/partner/schema.ts'
import { createCatalogue } from '../server/sandbox/catalogue.ts'
import { writeDaySnapshot } from '../server/sync/snapshot.ts'
import type { LoadJob, LoadKey, LoadResult } from './api-load.ts'
import { OCTO_BENCH_KEY } from './api-octo.ts'

export const DAYS = 60
export const TZ = 'Asia/Singapore'

const notHere = async (): Promise<never> => {
  throw new Error('sync is not part of this benchmark')
}
export const noSync: SyncService = { pause: notHere, resume: notHere, run: notHere, status: notHere }

/** The sandbox catalogue (seed 7) for `products` products: the fixture, never reshaped. */
export const benchCatalogue = (products: number) => createCatalogue({ seed: 7, products: Math.max(0, products - 2), timeZone: TZ })

/** Writes DAYS days of every product through the snapshot writer; returns the slot count. */
export async function seed(db: Database, products: number, today: string, now: number): Promise<number> {
  const catalogue = benchCatalogue(products)
  const ids = catalogue.productIds()
  await db.prisma.$executeRawUnsafe('INSERT INTO product (id, time_zone) SELECT unnest($1::int[]), $2', ids, TZ)
  const jobs = ids.flatMap((id) => Array.from({ length: DAYS }, (_, i) => [id, addDays(today, i)] as const))
  let slots = 0
  // A few writers at once, as the sync engine would.
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let job = jobs.pop(); job; job = jobs.pop()) {
        const [id, date] = job
        const v = validateDay(catalogue.inventory(id, date, now), date)
        if (!v.ok) throw new Error(`catalogue answer invalid: ${v.reason}`)
        slots += v.slots.length
        await writeDaySnapshot(db.prisma, { productId: id, date, slots: v.slots, fetchedAt: new Date(now) })
      }
    }),
  )
  await db.prisma.$executeRawUnsafe('VACUUM ANALYZE')
  return slots
}

/** The API as production mounts it, on the given database (`reads`: its read counter, as server.ts wires it; default none). */
export async function apiServer(db: Database, url: string, cacheTtlMs: number, reads?: ReadRecorder): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  const availability = createAvailabilityService({ prisma: db.prisma, clock: systemClock, defaultTimeZone: TZ, cacheTtlMs, reads })
  // The real plugins (security headers, rate limit, tRPC, swagger) stay on; the limit is just out of reach.
  // The catalogue and change feed are not measured here; the feed is never started (no LISTEN connection).
  const catalogue = createCatalogueService({ prisma: db.prisma, clock: systemClock, defaultTimeZone: TZ })
  const changes = createChangeFeed({ connectionString: url, prisma: db.prisma, logger: { info() {}, warn() {} } })
  const syncReads = createSyncReads({ prisma: db.prisma, clock: systemClock })
  await registerApi(app, {
    services: {
      availability,
      sync: noSync,
      health: createHealthService(db.prisma),
      syncReads,
      catalogue,
      changes,
      audit: createAuditService({ prisma: db.prisma, clock: systemClock, logger: silentLogger }),
    },
    adminToken: randomBytes(16).toString('hex'),
    rateLimitPerMinute: 1e9,
  })
  await app.register(octoRoutes, { availability, apiKeys: [OCTO_BENCH_KEY], publicUrl: 'http://localhost' })
  return app
}

/** Every key's answer, read once through the API: what the bare route serves from memory. */
export async function preload(
  app: FastifyInstance,
  keys: LoadKey[],
  method: 'GET' | 'POST',
  headers: Record<string, string> = {},
): Promise<Map<string, unknown>> {
  const bodies = new Map<string, unknown>()
  for (const k of keys) {
    const r = await app.inject({ method, url: k.path, headers, ...(k.body === undefined ? {} : { payload: k.body }) })
    if (r.statusCode !== 200) throw new Error(`${k.path}: ${r.statusCode} ${r.body.slice(0, 200)}`)
    bodies.set(k.path + (k.body ?? ''), r.json())
  }
  return bodies
}

const here = path.dirname(fileURLToPath(import.meta.url))

/** Runs the load generator in a child process and waits for its one result. */
export function load(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, 'api-load.ts'), [JSON.stringify(job)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let result: LoadResult | undefined
    child.on('message', (m) => (result = m as LoadResult))
    child.on('error', reject)
    child.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`load generator exited ${code}`))))
  })
}
