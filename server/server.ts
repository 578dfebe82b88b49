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
  void clock
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
  const cleanups: (() => Promise<void>)[] = []

  async function openDatabase(): Promise<string> {
    if (config.databaseUrl) return config.databaseUrl
    const dataDir = path.resolve(config.dataDir, 'postgres')
    embedded = await startEmbeddedPostgres({ dataDir, log: (m) => log.info(m) })
    await ensureDatabase(embedded.url, EMBEDDED_DB_NAME)
    return embedded.urlFor(EMBEDDED_DB_NAME)
  }

  return {
    app,
    async start() {
      const t0 = Date.now()
      try {
        const url = await openDatabase()
        const migrated = await applyMigrations(url, { log: (m) => log.info(m) })
        db = createDatabase(url, { onError: (err) => log.warn({ err: err.message }, 'database connection lost') })
        const health = createHealthService(db.pool)
        await registerApi(app, { services: { health } as never, adminToken })
        const address = await app.listen({ port: config.port, host: config.host })
        log.info(
          {
            url: address,
            database: embedded ? `embedded Postgres, data in ${embedded.dataDir}` : 'DATABASE_URL',
            migrationsApplied: migrated.applied.length,
            startupMs: Date.now() - t0,
          },
          'slotsync listening',
        )
        printBanner({ url: address, dataDir: embedded?.dataDir, adminToken: config.adminToken ? undefined : adminToken })
        return { url: address }
      } catch (err) {
        await this.stop().catch(() => {})
        throw err
      }
    },
    async stop() {
      await app.close().catch((err) => log.warn({ err }, 'closing the HTTP server failed'))
      for (const c of cleanups.reverse()) await c().catch((err) => log.warn({ err }, 'cleanup failed'))
      await db?.close()
      await embedded?.stop()
    },
  }
}

/** The few lines a newcomer needs, on stdout once, outside the JSON log. */
function printBanner(info: { url: string; dataDir?: string; adminToken?: string }): void {
  const lines = [
    '',
    `  slotsync is running at ${info.url}`,
    `  database: ${info.dataDir ? `embedded Postgres, data in ${info.dataDir}` : 'DATABASE_URL'}`,
    ...(info.adminToken ? [`  admin token (generated for this run; set ADMIN_TOKEN to choose one): ${info.adminToken}`] : []),
    '',
  ]
  process.stdout.write(lines.join('\n') + '\n')
}
