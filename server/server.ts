import { randomBytes } from 'node:crypto'
import net from 'node:net'
import path from 'node:path'
import pg from 'pg'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { Config } from './config.ts'
import { systemClock, type Clock } from './clock.ts'
import type { Database } from './db/client.ts'
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres.ts'
import { openPools, type Pools } from './db/pools.ts'
import { bounded } from './lifecycle.ts'
import type { HealthService } from './api/services.ts'
import { applyMigrations } from './db/migrate.ts'
import { httpServerOptions, REQUEST_ID_LOG_LABEL } from './http.ts'
import { databaseStartupError, listenStartupError } from './start-errors.ts'
import { loggerOptions } from './logger.ts'
import { createAuthGuard, createStreamSlots } from './api/client-limits.ts'
import { registerApi } from './api/index.ts'
import { createAvailabilityService } from './availability/service.ts'
import { createMetrics } from './observability/metrics.ts'
import { observabilityRoutes } from './observability/routes.ts'
import { createSyncReads } from './observability/sync-reads.ts'
import { octoRoutes } from './octo/routes.ts'
import { createCatalogueService } from './catalogue/service.ts'
import { createAuditService } from './audit/service.ts'
import { createChangeFeed, type ChangeFeed } from './changes/feed.ts'
import { LONG_RUN_REMEMBER, startSandbox, type Sandbox } from './sandbox/server.ts'
import { partnerHost } from './sync/control.ts'
import { usablePerMinute } from './sync/budget.ts'
import { createSync, type SyncAssembly } from './sync/index.ts'

export interface ServerDeps {
  clock?: Clock
  /** Where log lines go (tests capture them); stdout by default. */
  logStream?: NodeJS.WritableStream
  /**
   * A terminal a person reads, the only place a generated admin token is
   * shown. Default: stdout when it is a TTY, else none (a log file or a pipe
   * must never receive it).
   */
  terminal?: NodeJS.WritableStream | null
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
  const stdoutIsTerminal = process.stdout.isTTY === true
  const terminal = deps.terminal !== undefined ? deps.terminal : stdoutIsTerminal ? process.stdout : null
  const app = Fastify({
    ...httpServerOptions({ trustProxy: config.trustProxy }),
    logger: loggerOptions(config.logLevel, deps.logStream, { pretty: !deps.logStream && stdoutIsTerminal }),
    // While closing, requests on open connections are still answered by the
    // routes (so /ready gives its reason), not by Fastify's bare 503.
    return503OnClosing: false,
    logController: new LogController({ disableRequestLogging: quietRequests, requestIdLogLabel: REQUEST_ID_LOG_LABEL }),
  })
  const log = app.log
  const adminToken = config.adminToken ?? randomBytes(24).toString('base64url')
  let embedded: EmbeddedDatabase | undefined
  let db: Database | undefined
  let pools: Pools | undefined
  let sandbox: Sandbox | undefined
  let sync: SyncAssembly | undefined
  // Edge limits shared by the API, the OCTO face (failed authentications count together) and the gauge.
  const streams = createStreamSlots({ max: config.edge.maxStreams, maxPerClient: config.edge.maxStreamsPerClient })
  const authGuard = createAuthGuard({ failuresPerMinute: config.edge.authFailuresPerMinute })
  // Gauges read the API's shared status once registered (one status read per interval however many
  // scrapes, and a pause shows at once); before that, sync's own, and before sync is wired none.
  let sharedStatus: (() => ReturnType<SyncAssembly['control']['status']>) | undefined
  const metrics = createMetrics({ syncStatus: () => sharedStatus?.() ?? sync?.control.status(), openStreams: () => streams.open })
  let changes: ChangeFeed | undefined

  async function openDatabase(): Promise<string> {
    if (config.databaseUrl) {
      await probeDatabase(config.databaseUrl)
      return config.databaseUrl
    }
    const dataDir = path.resolve(config.dataDir, 'postgres')
    const dbLog = log.child({ module: 'database' })
    embedded = await startEmbeddedPostgres({
      dataDir,
      log: (m) => log.info(m),
      supervise: true,
      supervisorLog: { info: (m, o) => dbLog.info(o ?? {}, m), warn: (m, o) => dbLog.warn(o ?? {}, m) },
    })
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
      remember: LONG_RUN_REMEMBER,
    })
    return { baseUrl: sandbox.url, apiKey: sandbox.apiKey, sandbox: true }
  }

  // Readiness follows the lifecycle: /ready answers 503 from the moment a
  // stop begins, while requests are still served, so a load balancer stops
  // sending before the listener closes.
  let stopping = false
  let listening = false
  let listenAddress = `http://${config.host}:${config.port}`
  let schemaWatch: NodeJS.Timeout | undefined

  /** A read-only instance waits for another to migrate; it says once when the schema is there. */
  function watchSchema(health: HealthService): void {
    const check = async () => {
      const r = await health.ready().catch(() => undefined)
      if (r?.migrations) return log.info('database schema is migrated: ready')
      if (!stopping) schemaWatch = setTimeout(check, 2_000).unref()
    }
    void check()
  }

  return {
    app,
    async start() {
      const t0 = Date.now()
      // SYNC_ENABLED=false on a shared database: a replica that only reads,
      // so it neither migrates nor registers products (the writers do). The
      // embedded database has no other writer, so it is prepared as usual.
      const readOnly = !config.sync.enabled && config.databaseUrl !== undefined
      try {
        // Before anything is created: a taken port must not leave a new cluster behind.
        if (config.port !== 0) await assertPortFree(config.host, config.port)
        const url = await openDatabase()
        const migrated = readOnly ? { applied: [] } : await applyMigrations(url, { log: (m) => log.info(m) })
        pools = await openPools(url, {
          poolSize: config.databasePoolSize,
          statementTimeoutMs: config.databaseStatementTimeoutMs,
          maxInFlight: config.sync.maxInFlight,
          selfHealing: embedded !== undefined,
          log: log.child({ module: 'database' }),
        })
        db = pools.db

        const partner = await openPartner()
        const productIds = config.sync.productIds ?? sandbox?.catalogue.productIds() ?? []
        if (!readOnly) await registerProducts(db, productIds, config.sync.timeZone)
        if (!partner.sandbox && !config.sync.productIds && !readOnly) {
          log.warn('SYNC_PRODUCT_IDS is not set: only products already in the database are synced (none on a new database)')
        }

        sync = createSync({
          db: pools.engineDb,
          controlDb: db,
          clock,
          logger: log.child({ module: 'sync' }),
          partner: {
            ...partner,
            timeoutMs: config.partner.timeoutMs,
            maxBodyBytes: config.partner.maxBodyBytes,
            maxSlots: config.partner.maxSlots,
            maxHaltMs: config.partner.maxHaltMs,
          },
          limitPerMinute: config.partner.rateLimitPerMinute,
          timeZone: config.sync.timeZone,
          budgetMarginMs: config.sync.budgetMarginMs,
          engine: { maxInFlight: config.sync.maxInFlight },
          live: config.sync.live,
          observer: { ...metrics.observer, changeEvent: () => metrics.changeEvents(1) },
        })
        changes = createChangeFeed({ connectionString: config.databaseDirectUrl ?? url, prisma: db.prisma, logger: log.child({ module: 'changes' }) })
        await changes.start()
        const checkHealth = pools.health
        const monitor = pools.monitor
        // A read-only replica writes nothing, so it makes no live checks either.
        const live = readOnly ? undefined : sync.live
        const availability = createAvailabilityService({
          prisma: db.prisma,
          clock,
          defaultTimeZone: config.sync.timeZone,
          cacheTtlMs: config.apiCacheTtlMs,
          reads: sync.demand,
          live,
        })
        const services = {
          health: {
            async ready() {
              const r = await checkHealth.ready()
              if (stopping) return { ...r, ready: false, reason: 'shutting down' }
              const e = embedded?.state()
              if (!r.ready && e?.status === 'restarting')
                return { ...r, reason: `the embedded database stopped unexpectedly and is being restarted (attempt ${e.attempts})` }
              return r
            },
            live: () => checkHealth.live(),
          },
          availability,
          sync: sync.control,
          syncReads: createSyncReads({
            prisma: db.prisma,
            clock,
            plan: () => sync?.engine.plan,
            perMinute: usablePerMinute(sync.budget),
          }),
          // Other instances' read caches expire within API_CACHE_TTL_MS.
          catalogue: createCatalogueService({
            prisma: db.prisma,
            clock,
            defaultTimeZone: config.sync.timeZone,
            onRemoved: (id) => availability.invalidate(id),
            onChanged: () => sync?.engine.replanSoon(),
          }),
          changes,
          audit: createAuditService({ prisma: db.prisma, clock, logger: log.child({ module: 'audit' }) }),
        }
        // Before registerApi: a hook counts only the routes registered after it.
        app.addHook('onResponse', metrics.onResponse)
        const api = await registerApi(app, {
          services,
          adminToken,
          rateLimitPerMinute: config.apiRateLimitPerMinute,
          edge: config.edge,
          authGuard,
          streams,
          sharedReadTtlMs: config.apiCacheTtlMs,
          budgetWindowMs: sync.budget.windowMs,
          now: () => clock.now(),
          onUnavailable: () => monitor.suspect(),
          corsOrigins: config.corsOrigins,
        })
        if (config.octoApiKeys)
          await app.register(octoRoutes, {
            availability,
            live: live && { check: live.check, maxAgeMs: config.octoLiveMaxAgeMs, now: () => clock.now() },
            apiKeys: config.octoApiKeys,
            rateLimitPerMinute: config.apiRateLimitPerMinute,
            authGuard,
            // PUBLIC_URL, else the address listen() reports (known only once listening).
            publicUrl: () => config.publicUrl ?? listenAddress,
          })
        sharedStatus = api.services.sync.status
        await app.register(observabilityRoutes, { metrics })
        const address = await app.listen({ port: config.port, host: config.host }).catch((err: unknown) => {
          throw listenStartupError(err, config.host, config.port)
        })
        listening = true
        listenAddress = address
        if (config.sync.enabled) sync.engine.start()
        // Every instance's reads count, a read replica's too: its flush is its one write.
        sync.demand.start()
        if (readOnly) {
          log.info('read-only instance (SYNC_ENABLED=false with DATABASE_URL): no migrations, no writes but its read counts')
          watchSchema(services.health)
        }
        const publicUrl = config.publicUrl ?? address
        const generatedToken = config.adminToken ? undefined : adminToken
        // The one start-up record: everything a person or a log search needs
        // to find this instance, and never a secret. Written at any LOG_LEVEL
        // but silent (LOG_LEVEL=warn still says where the service is).
        const startupLog = config.logLevel === 'silent' ? log : log.child({}, { level: 'info' })
        startupLog.info(
          {
            url: address,
            publicUrl,
            dashboard: `${publicUrl}/`,
            docs: `${publicUrl}/docs`,
            database: embedded ? 'embedded' : 'DATABASE_URL',
            ...(embedded ? { dataDir: embedded.dataDir } : {}),
            partner: partnerHost(partner.baseUrl),
            partnerSandbox: partner.sandbox,
            products: productIds.length,
            syncEnabled: config.sync.enabled,
            readOnly,
            migrationsApplied: migrated.applied.length,
            corsOrigins: config.corsOrigins ?? [],
            // OCTO is on only with OCTO_API_KEYS; the count, never a key.
            octo: config.octoApiKeys ? { endpoint: `${publicUrl}/octo`, keys: config.octoApiKeys.length } : 'off',
            tracing: config.tracing ? `${config.tracing.exporter}${config.tracing.exporter === 'otlp' ? ` ${config.tracing.protocol}` : ''}` : 'off',
            startupMs: Date.now() - t0,
            ...(generatedToken
              ? {
                  adminTokenHint: terminal
                    ? 'generated for this run, shown once on the terminal; set ADMIN_TOKEN to choose one'
                    : 'generated for this run and not shown (stdout is not a terminal): set ADMIN_TOKEN to choose one',
                }
              : {}),
          },
          'slotsync is running',
        )
        if (generatedToken && terminal) terminal.write(`\n  admin token for this run (set ADMIN_TOKEN to choose one): ${generatedToken}\n\n`)
        return { url: address }
      } catch (err) {
        await this.stop().catch(() => {})
        throw err
      }
    },
    async stop() {
      stopping = true
      clearTimeout(schemaWatch)
      pools?.monitor.stop()
      // Whether the database answers now: if not, nothing that waits on it
      // (the engine's last writes, closing connections) can finish, and the
      // waits below are cut short so that a stop takes seconds, not 30.
      const dbUp = pools ? (await pools.health.ready()).database : true
      if (listening && config.shutdownDelayMs > 0) {
        log.info({ delayMs: config.shutdownDelayMs }, 'stopping: /ready answers 503; still serving until the listener closes')
        await new Promise((r) => setTimeout(r, config.shutdownDelayMs))
      }
      listening = false
      // Order matters: no new connections and in-flight requests answered
      // (open change streams end first, or they would hold the server open),
      // then the scheduler (its in-flight fetches finish and are written),
      // then the partner and the database.
      changes?.closeStreams()
      await bounded(app.close(), 5_000, 'closing the HTTP server', log)
      // In-flight fetches finish and are written (PARTNER_TIMEOUT_MS at most) while the database answers.
      await bounded(sync?.engine.stop(), dbUp ? config.partner.timeoutMs + 3_000 : 2_000, 'stopping sync', log)
      // The last minute's read counts, while the database answers.
      await bounded(sync?.demand.stop(), dbUp ? 2_000 : 500, 'flushing read counts', log)
      await bounded(Promise.all([changes?.stop(), sandbox?.close(), pools?.close()]), dbUp ? 5_000 : 2_000, 'closing connections', log)
      await embedded?.stop()
    },
  }
}

/**
 * One connection to DATABASE_URL, so an unreachable database is one clear
 * line, not a stack trace later. A short-lived pg.Client rather than Prisma:
 * it runs before the PrismaClient exists, and start-errors.ts reads the
 * driver's own error codes (refused, auth, unknown database).
 */
async function probeDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  client.on('error', () => {}) // a connection dropped after the probe is not a start-up failure
  try {
    await client.connect()
    await client.query('SELECT 1')
  } catch (err) {
    throw databaseStartupError(err, url)
  } finally {
    await client.end().catch(() => {})
  }
}

/** Binds and releases the API port, to fail before the database is started. */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', (err) => reject(listenStartupError(err, host, port)))
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()))
  })
}

/** Products to sync are added (never removed) at start; a product's own time zone is kept. */
async function registerProducts(db: Database, ids: number[], timeZone: string): Promise<void> {
  if (!ids.length) return
  await db.prisma.product.createMany({ data: ids.map((id) => ({ id, timeZone })), skipDuplicates: true })
  await db.prisma.product.updateMany({ where: { id: { in: ids }, active: false }, data: { active: true } })
}
