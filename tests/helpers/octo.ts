import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify'
import { registerApi } from '../../server/api/index.ts'
import { createAvailabilityService, type CachingAvailabilityService } from '../../server/availability/service.ts'
import { manualClock } from '../../server/clock.ts'
import { addDays } from '../../server/calendar/days.ts'
import { createHealthService } from '../../server/db/health.ts'
import { loggerOptions } from '../../server/logger.ts'
import { createCatalogueService } from '../../server/catalogue/service.ts'
import { createChangeFeed } from '../../server/changes/feed.ts'
import { createSyncReads } from '../../server/observability/sync-reads.ts'
import { createAuditService } from '../../server/audit/service.ts'
import { silentLogger } from '../../server/logger.ts'
import { octoRoutes } from '../../server/octo/routes.ts'
import { validateDay } from '../../server/partner/schema.ts'
import { createCatalogue } from '../../server/sandbox/catalogue.ts'
import { writeDaySnapshot } from '../../server/sync/snapshot.ts'
import { ADMIN_TOKEN, fakeSyncService } from './api.ts'
import { countingReads } from './counting-reads.ts'
import { createTestDatabase, type TestDatabase } from './db.ts'

/** PUBLIC_URL of the OCTO test API: supplier.endpoint is it + /octo. */
export const OCTO_TEST_PUBLIC_URL = 'https://slotsync.test'

/** Every route of the OCTO face, as a reseller calls it. */
export const OCTO_ROUTES = [
  ['GET', '/octo/supplier'],
  ['GET', '/octo/products'],
  ['GET', '/octo/products/14'],
  ['POST', '/octo/availability/calendar'],
  ['POST', '/octo/availability'],
] as const

export interface OctoTestApi {
  app: FastifyInstance
  db: TestDatabase
  clock: ReturnType<typeof manualClock>
  availability: CachingAvailabilityService
  /** Every log line the app wrote (trace level, request logging on). */
  logs: string[]
  /** Names of the statements the availability service sent, for counting. */
  queries: string[]
  /** A request with the first key (or `key`) and optional capabilities. */
  octo(method: 'GET' | 'POST', url: string, body?: unknown, opts?: { key?: string | null; capabilities?: string }): Promise<LightMyRequestResponse>
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>
  close(): Promise<void>
}

/**
 * The public API as server.ts wires it (registerApi, then the OCTO routes
 * when keys are given) over a test database, with a manual clock, logs
 * captured and the availability service's queries counted.
 */
export async function createOctoTestApi(opts: { now: number; keys?: string[]; cacheTtlMs?: number; rateLimitPerMinute?: number }): Promise<OctoTestApi> {
  const db = await createTestDatabase()
  const clock = manualClock(opts.now)
  const { prisma, queries } = countingReads(db.prisma)
  const availability = createAvailabilityService({ prisma, clock, defaultTimeZone: 'Asia/Singapore', cacheTtlMs: opts.cacheTtlMs ?? 0 })
  const logs: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const app = Fastify({ logger: loggerOptions('trace', stream) })
  // The feed is created for the API's sake and never started: no LISTEN connection.
  const services = {
    availability,
    sync: fakeSyncService().service,
    health: createHealthService(db.prisma),
    syncReads: createSyncReads({ prisma: db.prisma, clock }),
    audit: createAuditService({ prisma: db.prisma, clock, logger: silentLogger }),
    catalogue: createCatalogueService({ prisma: db.prisma, clock, defaultTimeZone: 'Asia/Singapore' }),
    changes: createChangeFeed({ connectionString: db.url, prisma: db.prisma, logger: { info() {}, warn() {} } }),
  }
  await registerApi(app, { services, adminToken: ADMIN_TOKEN, rateLimitPerMinute: 1_000_000 })
  if (opts.keys)
    await app.register(octoRoutes, {
      availability,
      apiKeys: opts.keys,
      publicUrl: OCTO_TEST_PUBLIC_URL,
      ...(opts.rateLimitPerMinute ? { rateLimitPerMinute: opts.rateLimitPerMinute } : {}),
    })
  await app.ready()
  const firstKey = opts.keys?.[0]
  return {
    app,
    db,
    clock,
    availability,
    logs,
    queries,
    octo(method, url, body, o = {}) {
      const key = o.key === undefined ? firstKey : o.key
      return app.inject({
        method,
        url,
        headers: {
          ...(key === null || key === undefined ? {} : { authorization: `Bearer ${key}` }),
          ...(o.capabilities !== undefined ? { 'octo-capabilities': o.capabilities } : {}),
        },
        ...(body !== undefined ? { payload: body as object } : {}),
      })
    },
    inject: (o) => app.inject(o),
    async close() {
      await app.close()
      await db.drop()
    },
  }
}

/** The sandbox catalogue's answers for `days` days from `today`, written as the sync engine writes them. */
export async function seedCatalogue(db: TestDatabase, productId: number, today: string, days: number, now: number): Promise<void> {
  const catalogue = createCatalogue({ seed: 7, products: 0, timeZone: 'Asia/Singapore' })
  for (let i = 0; i < days; i++) {
    const date = addDays(today, i)
    const v = validateDay(catalogue.inventory(productId, date, now), date)
    if (!v.ok) throw new Error(v.reason)
    await writeDaySnapshot(db.prisma, { productId, date, slots: v.slots, fetchedAt: new Date(now) })
  }
}
