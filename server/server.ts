import { randomBytes } from 'node:crypto'
import path from 'node:path'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { Config } from './config.ts'
import { systemClock, type Clock } from './clock.ts'
import { createDatabase, type Database } from './db/client.ts'
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres.ts'
import { createHealthService } from './db/health.ts'
import { applyMigrations } from './db/migrate.ts'
import { loggerOptions } from './logger.ts'
import { registerApi } from './api/index.ts'
import { createAvailabilityService } from './availability/service.ts'
import { createMetrics } from './observability/metrics.ts'
import { observabilityRoutes } from './observability/routes.ts'
import { createSyncReads } from './observability/sync-reads.ts'
import { octoRoutes } from './octo/routes.ts'
import { createCatalogueService } from './catalogue/service.ts'
import { createChangeFeed, type ChangeFeed } from './changes/feed.ts'
import { startSandbox, type Sandbox } from './sandbox/server.ts'
import { partnerHost } from './sync/control.ts'
import { createSync, type SyncAssembly } from './sync/index.ts'

export interface ServerDeps {
  clock?: Clock
  /** Where log lines go (tests capture them); stdout by default. */
  logStream?: NodeJS.WritableStream
}

export interface SlotsyncServer {
  app: FastifyInstance
  /** Starts the database, applies migrations, starts sync, listens. */
  start(): Promise<{ url: string }>
  /** Graceful: stop accepting, stop the scheduler (in-flight fetches finish), close the database. */
  stop(): Promise<void>
}

const EMBEDDED_DB_NAME = 'slotsync'

export function createServer(config: Config, deps: ServerDeps = {}): SlotsyncServer {
  const clock = deps.clock ?? systemClock
  // One log line per request is noise at info level; it comes back at debug.
  const quietRequests = config.logLevel !== 'debug' && config.logLevel !== 'trace'
  const app = Fastify({
    logger: loggerOptions(config.logLevel, deps.logStream),
    logController: new LogController({ disableRequestLogging: quietRequests }),
  })
  const log = app.log
  const adminToken = config.adminToken ?? randomBytes(24).toString('base64url')
  let embedded: EmbeddedDatabase | undefined
  let db: Database | undefined
  let sandbox: Sandbox | undefined
  let sync: SyncAssembly | undefined
  // Gauges read sync status at each scrape; before sync is wired there is none to read.
  const metrics = createMetrics({ syncStatus: () => sync?.control.status() })
  let changes: ChangeFeed | undefined

  async function openDatabase(): Promise<string> {
    if (config.databaseUrl) return config.databaseUrl
    const dataDir = path.resolve(config.dataDir, 'postgres')
    embedded = await startEmbeddedPostgres({ dataDir, log: (m) => log.info(m) })
    await ensureDatabase(embedded.url, EMBEDDED_DB_NAME)
    return embedded.urlFor(EMBEDDED_DB_NAME)
  }

  async function openPartner(): Promise<{ baseUrl: string; apiKey: string; sandbox: boolean }> {
    if (config.partner.baseUrl) {
      if (!config.partner.apiKey) log.warn('PARTNER_API_KEY is not set: requests to the partner carry an empty key')
      return { baseUrl: config.partner.baseUrl, apiKey: config.partner.apiKey ?? '', sandbox: false }
    }
    sandbox = await startSandbox({
      port: config.sandbox.port ?? 0,
      apiKey: config.partner.apiKey ?? config.sandbox.apiKey,
      rateLimitPerMinute: config.sandbox.rateLimitPerMinute,
      products: config.sandbox.products,
      latency: config.sandbox.latency,
      timeZone: config.sync.timeZone,
      clock,
      logger: log.child({ module: 'sandbox' }),
    })
    return { baseUrl: sandbox.url, apiKey: sandbox.apiKey, sandbox: true }
  }

  return {
    app,
    async start() {
      const t0 = Date.now()
      try {
        const url = await openDatabase()
        const migrated = await applyMigrations(url, { log: (m) => log.info(m) })
        db = createDatabase(url, { onError: (err) => log.warn({ err: err.message }, 'database connection lost') })

        const partner = await openPartner()
        const productIds = config.sync.productIds ?? sandbox?.catalogue.productIds() ?? []
        await registerProducts(db, productIds, config.sync.timeZone)
        if (!partner.sandbox && !config.sync.productIds) {
          log.warn('SYNC_PRODUCT_IDS is not set: only products already in the database are synced (none on a new database)')
        }

        sync = createSync({
          pool: db.pool,
          clock,
          logger: log.child({ module: 'sync' }),
          partner: { ...partner, timeoutMs: config.partner.timeoutMs },
          limitPerMinute: config.partner.rateLimitPerMinute,
          timeZone: config.sync.timeZone,
          budgetMarginMs: config.sync.budgetMarginMs,
          engine: { maxInFlight: config.sync.maxInFlight },
          observer: { ...metrics.observer, changeEvent: () => metrics.changeEvents(1) },
        })
        changes = createChangeFeed({ connectionString: url, pool: db.pool, logger: log.child({ module: 'changes' }) })
        await changes.start()
        const availability = createAvailabilityService({ pool: db.pool, clock, defaultTimeZone: config.sync.timeZone, cacheTtlMs: config.apiCacheTtlMs })
        const services = {
          health: createHealthService(db.pool),
          availability,
          sync: sync.control,
          syncReads: createSyncReads({ pool: db.pool, clock }),
          // Other instances' read caches expire within API_CACHE_TTL_MS.
          catalogue: createCatalogueService({ pool: db.pool, clock, defaultTimeZone: config.sync.timeZone, onRemoved: (id) => availability.invalidate(id) }),
          changes,
        }
        // Before registerApi: a hook counts only the routes registered after it.
        app.addHook('onResponse', metrics.onResponse)
        await registerApi(app, { services, adminToken, rateLimitPerMinute: config.apiRateLimitPerMinute })
        if (config.octoApiKeys) await app.register(octoRoutes, { availability, apiKeys: config.octoApiKeys, rateLimitPerMinute: config.apiRateLimitPerMinute })
        await app.register(observabilityRoutes, { metrics })
        const address = await app.listen({ port: config.port, host: config.host })
        if (config.sync.enabled) sync.engine.start()
        log.info(
          {
            url: address,
            database: embedded ? `embedded Postgres, data in ${embedded.dataDir}` : 'DATABASE_URL',
            partner: partner.sandbox ? `sandbox at ${partnerHost(partner.baseUrl)}` : partnerHost(partner.baseUrl),
            products: productIds.length,
            syncEnabled: config.sync.enabled,
            migrationsApplied: migrated.applied.length,
            startupMs: Date.now() - t0,
          },
          'slotsync listening',
        )
        printBanner({
          url: address,
          dataDir: embedded?.dataDir,
          partner: partner.sandbox ? `partner sandbox at ${partnerHost(partner.baseUrl)} (set PARTNER_BASE_URL for the real one)` : partnerHost(partner.baseUrl),
          products: productIds.length,
          syncEnabled: config.sync.enabled,
          adminToken: config.adminToken ? undefined : adminToken,
        })
        return { url: address }
      } catch (err) {
        await this.stop().catch(() => {})
        throw err
      }
    },
    async stop() {
      // Order matters: no new requests (open change streams end first, or
      // they would hold the server open), then the scheduler (its in-flight
      // fetches finish and are written), then the partner and the database.
      changes?.closeStreams()
      await app.close().catch((err) => log.warn({ err }, 'closing the HTTP server failed'))
      await sync?.engine.stop().catch((err) => log.warn({ err }, 'stopping sync failed'))
      await changes?.stop().catch(() => {})
      await sandbox?.close().catch(() => {})
      await db?.close()
      await embedded?.stop()
    },
  }
}

/** Products to sync are added (never removed) at start; a product's own time zone is kept. */
async function registerProducts(db: Database, ids: number[], timeZone: string): Promise<void> {
  if (!ids.length) return
  await db.pool.query(
    `INSERT INTO product (id, time_zone) SELECT unnest($1::int[]), $2 ON CONFLICT (id) DO UPDATE SET active = true WHERE NOT product.active`,
    [ids, timeZone],
  )
}

/** The few lines a newcomer needs, on stdout once, outside the JSON log. */
function printBanner(info: { url: string; dataDir?: string; partner: string; products: number; syncEnabled: boolean; adminToken?: string }): void {
  const lines = [
    '',
    `  slotsync is running at ${info.url}`,
    `  database: ${info.dataDir ? `embedded Postgres, data in ${info.dataDir}` : 'DATABASE_URL'}`,
    `  partner:  ${info.partner}`,
    `  sync:     ${info.syncEnabled ? `${info.products} products, status at ${info.url}/api/v1/sync/status` : 'disabled (SYNC_ENABLED=false)'}`,
    `  docs:     ${info.url}/docs`,
    ...(info.adminToken ? [`  admin token (generated for this run; set ADMIN_TOKEN to choose one): ${info.adminToken}`] : []),
    '',
  ]
  process.stdout.write(lines.join('\n') + '\n')
}
