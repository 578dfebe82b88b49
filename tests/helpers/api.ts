import Fastify, { type FastifyInstance } from 'fastify'
import type { LiveChecker } from '../../server/sync/live.ts'
import { registerApi } from '../../server/api/index.ts'
import type { Services, SyncService, SyncStateView, SyncStatusView } from '../../server/api/services.ts'
import { createAvailabilityService } from '../../server/availability/service.ts'
import { createCatalogueService } from '../../server/catalogue/service.ts'
import { createChangeFeed, type ChangeFeed } from '../../server/changes/feed.ts'
import { manualClock } from '../../server/clock.ts'
import { type AuthGuard, createAuthGuard, createStreamSlots, type StreamSlots } from '../../server/api/client-limits.ts'
import type { SyncReadService } from '../../server/api/sync-read-schemas.ts'
import { DEFAULT_EDGE_LIMITS, type EdgeLimits, type TrustProxy } from '../../server/config.ts'
import { httpServerOptions } from '../../server/http.ts'
import { createHealthService } from '../../server/db/health.ts'
import type { PartnerSlotInput } from '../../server/partner/schema.ts'
import { createSyncReads } from '../../server/observability/sync-reads.ts'
import { createAuditService } from '../../server/audit/service.ts'
import { type Logger, silentLogger } from '../../server/logger.ts'
import { writeDaySnapshot } from '../../server/sync/snapshot.ts'
import { createTestDatabase, type TestDatabase } from './db.ts'
import { validSlots } from './partner-data.ts'

export const ADMIN_TOKEN = 'test-admin-token'

export interface TestApiOptions {
  /** Reuse a database (else a fresh one is created and dropped on close). */
  db?: TestDatabase
  /** The API's "now" (a manual clock; move it with `clock.set`). */
  now?: number
  /** A clock to share (e.g. a SyncWorld's), instead of one of its own at `now`. */
  clock?: ReturnType<typeof manualClock>
  /** Live checks for reads with a maximum age (a SyncAssembly's `live`); default none. */
  live?: LiveChecker
  /** Default: a recording double (see fakeSyncService); pass the real one when it exists. */
  sync?: SyncService
  adminToken?: string
  /** Origins allowed by CORS (CORS_ORIGINS); default none. */
  corsOrigins?: string[]
  /** Default: high enough that tests never meet it. */
  rateLimitPerMinute?: number
  defaultTimeZone?: string
  /** Availability read cache (clock ms); 0 by default so a test sees its writes at once. */
  cacheTtlMs?: number
  /** Fastify trustProxy, as TRUST_PROXY sets it (default off). */
  trustProxy?: TrustProxy
  /** TRPC_MAX_BATCH, SSE_MAX_STREAMS[_PER_IP], AUTH_FAILURES_PER_MINUTE (default: the documented defaults). */
  edge?: Partial<EdgeLimits>
  /** How long sync status and the dashboard's reads are shared; default cacheTtlMs (0: only concurrent callers share). */
  sharedReadTtlMs?: number
  /** Default: the real reads on the test database. */
  syncReads?: SyncReadService
  /** Where the audit trail's 'admin action' records go (default: nowhere). */
  logger?: Logger
}

export interface TestApi {
  app: FastifyInstance
  db: TestDatabase
  clock: ReturnType<typeof manualClock>
  services: Services
  /** This instance's change feed (its own LISTEN connection), e.g. to end its streams as a shutdown does. */
  changes: ChangeFeed
  /** The API's open change-stream slots (what the slotsync_open_streams gauge reads). */
  streams: StreamSlots
  /** The API's failed-authentication guard (server.ts shares it with the OCTO face). */
  authGuard: AuthGuard
  /** Base URL after `listen()`. */
  url: string
  listen(): Promise<string>
  close(): Promise<void>
}

/** A Fastify app with registerApi and the real availability and health services on a test database. */
export async function createTestApi(opts: TestApiOptions = {}): Promise<TestApi> {
  const ownDb = !opts.db
  const db = opts.db ?? (await createTestDatabase())
  const clock = opts.clock ?? manualClock(opts.now ?? Date.now())
  const availability = createAvailabilityService({
    prisma: db.prisma,
    clock,
    defaultTimeZone: opts.defaultTimeZone ?? 'Asia/Singapore',
    cacheTtlMs: opts.cacheTtlMs ?? 0,
    live: opts.live,
  })
  const changes = createChangeFeed({ connectionString: db.directUrl, prisma: db.prisma, logger: { info() {}, warn() {} } })
  await changes.start()
  const services: Services = {
    availability,
    sync: opts.sync ?? fakeSyncService().service,
    health: createHealthService(db.prisma),
    syncReads: opts.syncReads ?? createSyncReads({ prisma: db.prisma, clock }),
    audit: createAuditService({ prisma: db.prisma, clock, logger: opts.logger ?? silentLogger }),
    catalogue: createCatalogueService({
      prisma: db.prisma,
      clock,
      defaultTimeZone: opts.defaultTimeZone ?? 'Asia/Singapore',
      onRemoved: (id) => availability.invalidate(id),
    }),
    changes,
  }
  const app = Fastify({ ...httpServerOptions({ trustProxy: opts.trustProxy ?? false }), logger: false })
  const limits = { ...DEFAULT_EDGE_LIMITS, ...opts.edge }
  const streams = createStreamSlots({ max: limits.maxStreams, maxPerClient: limits.maxStreamsPerClient })
  const authGuard = createAuthGuard({ failuresPerMinute: limits.authFailuresPerMinute })
  await registerApi(app, {
    services,
    adminToken: opts.adminToken ?? ADMIN_TOKEN,
    rateLimitPerMinute: opts.rateLimitPerMinute ?? 1_000_000,
    edge: limits,
    streams,
    authGuard,
    sharedReadTtlMs: opts.sharedReadTtlMs ?? opts.cacheTtlMs ?? 0,
    corsOrigins: opts.corsOrigins,
  })
  const api: TestApi = {
    app,
    db,
    clock,
    services,
    changes,
    streams,
    authGuard,
    url: '',
    async listen() {
      api.url = await app.listen({ port: 0, host: '127.0.0.1' })
      return api.url
    },
    async close() {
      changes.closeStreams()
      await app.close()
      await changes.stop()
      if (ownDb) await db.drop()
    },
  }
  return api
}

/**
 * Stores a day the way the sync engine does: partner-shaped slots, validated,
 * written by the snapshot writer. `slots: []` records a closed day.
 */
export async function seedDay(db: TestDatabase, productId: number, date: string, slots: PartnerSlotInput[], fetchedAt: Date): Promise<void> {
  await writeDaySnapshot(db.prisma, { productId, date, slots: validSlots(date, slots), fetchedAt })
}

export type SyncCall = { method: 'pause' | 'resume' | 'run' | 'status'; arg?: unknown }

/**
 * A SyncService test double that records its calls, for the router's shape,
 * auth and validation only; the sync engine's own tests cover the real one.
 */
export function fakeSyncService(): { service: SyncService; calls: SyncCall[] } {
  const calls: SyncCall[] = []
  let paused = false
  const paused1 = new Set<number>()
  const state = (productId?: number): SyncStateView => ({
    paused: productId === undefined ? paused : paused || paused1.has(productId),
    ...(productId === undefined ? {} : { productId }),
    changedAt: '2026-12-01T00:00:00.000Z',
    pausedProducts: [...paused1].sort((a, b) => a - b),
    haltedUntil: null,
  })
  const service: SyncService = {
    async pause(productId) {
      calls.push({ method: 'pause', arg: productId })
      if (productId === undefined) paused = true
      else paused1.add(productId)
      return state(productId)
    },
    async resume(productId) {
      calls.push({ method: 'resume', arg: productId })
      if (productId === undefined) paused = false
      else paused1.delete(productId)
      return state(productId)
    },
    async run(req) {
      calls.push({ method: 'run', arg: req })
      return { queued: req.productId === undefined ? 120 : 60 }
    },
    async status(): Promise<SyncStatusView> {
      calls.push({ method: 'status' })
      const tier = { total: 1, fresh: 1, due: 0, overdue: 0, oldestFetchedAt: '2026-11-30T00:00:00.000Z' }
      return {
        paused,
        pausedProducts: [...paused1],
        running: !paused,
        queue: 0,
        inFlight: 0,
        queued: 0,
        neverFetched: 0,
        tiers: { today: tier, week: tier, month: tier, horizon: tier },
        run: { queued: 0, etaAt: null },
        budget: { limitPerMinute: 30, usedLastMinute: 3, leftThisMinute: 27, usedToday: 100, leftToday: 43_100, haltedUntil: null },
        lastSuccessAt: '2026-12-01T00:00:00.000Z',
        lastError: null,
        oldestServedFetchedAt: '2026-11-30T00:00:00.000Z',
        products: { active: 2, paused: paused1.size },
        failingProducts: [],
        partner: { host: '127.0.0.1:4010', sandbox: true, state: 'ok', consecutiveFailures: 0, nextProbeAt: null },
      }
    },
  }
  return { service, calls }
}
