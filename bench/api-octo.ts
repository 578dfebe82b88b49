/**
 * The OCTO part of bench/api.ts: a 60-day POST /octo/availability/calendar
 * beside GET /dates on the same servers in the same run (ratio), and how many
 * statements each costs per request, counted on the real stack (the point of
 * the range read: one query for 60 days, not one per day).
 */
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import { registerApi } from '../server/api/index.ts'
import type { SyncService } from '../server/api/services.ts'
import { createAvailabilityService } from '../server/availability/service.ts'
import { horizonAt } from '../server/calendar/horizon.ts'
import { systemClock } from '../server/clock.ts'
import type { Database, Db } from '../server/db/client.ts'
import { createHealthService } from '../server/db/health.ts'
import { createCatalogueService } from '../server/catalogue/service.ts'
import { createChangeFeed } from '../server/changes/feed.ts'
import { createSyncReads } from '../server/observability/sync-reads.ts'
import { createAuditService } from '../server/audit/service.ts'
import { silentLogger } from '../server/logger.ts'
import { octoRoutes } from '../server/octo/routes.ts'

/** A key for this run only. */
export const OCTO_BENCH_KEY = randomBytes(16).toString('hex')

export const octoHeaders = { authorization: `Bearer ${OCTO_BENCH_KEY}`, 'content-type': 'application/json', 'octo-capabilities': 'octo/pricing' }

/** The whole served horizon of a product, as a reseller's calendar view asks for it. */
export function calendarBody(productId: number, timeZone: string) {
  const h = horizonAt(systemClock.now(), timeZone)
  return { productId: String(productId), optionId: 'DEFAULT', localDateStart: h.today, localDateEnd: h.last }
}

/** Statements sent per request for /dates and the 60-day calendar, over `n` requests each, no cache. */
export async function queriesPerRequest(
  db: Pick<Database, 'prisma'>,
  productId: number,
  timeZone: string,
  sync: SyncService,
  n = 50,
): Promise<{ dates: number; calendar: number }> {
  let count = 0
  const counting: Pick<Db, '$queryRaw'> = {
    $queryRaw: ((...args: unknown[]) => {
      count++
      return (db.prisma.$queryRaw as (...a: unknown[]) => unknown)(...args)
    }) as Db['$queryRaw'],
  }
  const availability = createAvailabilityService({ prisma: counting, clock: systemClock, defaultTimeZone: timeZone, cacheTtlMs: 0 })
  const app = Fastify({ logger: false })
  try {
    // Only the availability reads are counted; the other services are there because the API needs them (the feed is never started).
    const services = {
      availability,
      sync,
      health: createHealthService(db.prisma),
      syncReads: createSyncReads({ prisma: db.prisma, clock: systemClock }),
      audit: createAuditService({ prisma: db.prisma, clock: systemClock, logger: silentLogger }),
      catalogue: createCatalogueService({ prisma: db.prisma, clock: systemClock, defaultTimeZone: timeZone }),
      changes: createChangeFeed({ connectionString: '', prisma: db.prisma, logger: { info() {}, warn() {} } }),
    }
    await registerApi(app, { services, adminToken: randomBytes(16).toString('hex'), rateLimitPerMinute: 1e9 })
    await app.register(octoRoutes, { availability, apiKeys: [OCTO_BENCH_KEY], publicUrl: 'http://localhost' })
    const per = async (send: () => Promise<{ statusCode: number }>) => {
      count = 0
      for (let i = 0; i < n; i++) if ((await send()).statusCode !== 200) throw new Error('a counted request failed')
      return count / n
    }
    return {
      dates: await per(() => app.inject({ url: `/api/v1/experience/${productId}/dates` })),
      calendar: await per(() =>
        app.inject({ method: 'POST', url: '/octo/availability/calendar', headers: octoHeaders, payload: calendarBody(productId, timeZone) }),
      ),
    }
  } finally {
    await app.close()
  }
}
