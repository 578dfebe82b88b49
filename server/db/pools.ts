import type { Logger } from '../logger.ts'
import { acceptsStatementTimeout, createDatabase, type Database } from './client.ts'
import { createDatabaseMonitor, type DatabaseMonitor } from './db-monitor.ts'
import { createDatabaseProbe, createHealthService } from './health.ts'
import type { HealthService } from './health-types.ts'

/** One instance's connections to its database and what watches them. */
export interface Pools {
  /** The API's reads and admin calls: DATABASE_POOL_SIZE connections, each statement bounded. */
  db: Database
  /** The sync engine's own. */
  engineDb: Database
  health: HealthService
  monitor: DatabaseMonitor
  /** Closes every connection (callers bound the wait: a stalled server never says goodbye). */
  close(): Promise<unknown>
}

export interface PoolOptions {
  poolSize: number
  statementTimeoutMs: number
  maxInFlight: number
  /** The embedded database, which the service restarts itself. */
  selfHealing: boolean
  log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>
}

/**
 * The engine's pool: one connection per request in flight (each answer's
 * write), one for the send decision and one for upkeep, so that public
 * reads can never take the connections it claims, budgets and writes with.
 * Capped because writes take milliseconds and may queue behind each other.
 */
export function enginePoolSize(maxInFlight: number): number {
  return Math.min(maxInFlight + 2, 32)
}

export async function openPools(url: string, o: PoolOptions): Promise<Pools> {
  const serverStatementTimeout = await acceptsStatementTimeout(url)
  if (!serverStatementTimeout)
    o.log.info({}, 'the database refuses statement_timeout at connect (PgBouncer?): DATABASE_STATEMENT_TIMEOUT_MS is enforced by the client only')
  let monitor: DatabaseMonitor | undefined
  const onError = (err: Error) => {
    o.log.debug({ err: err.message }, 'idle database connection lost')
    monitor?.suspect()
  }
  const db = createDatabase(url, {
    max: o.poolSize,
    statementTimeoutMs: o.statementTimeoutMs,
    serverStatementTimeout,
    connectionTimeoutMs: Math.min(5_000, o.statementTimeoutMs),
    onError,
  })
  // Not bounded by the read timeout: a big day's write may legitimately take longer.
  const engineDb = createDatabase(url, { max: enginePoolSize(o.maxInFlight), onError })
  const probe = createDatabaseProbe(url)
  const health = createHealthService(probe, {
    onOutcome: (outcome) => monitor?.observe(outcome),
    live: () => monitor?.live() ?? { ok: true },
  })
  monitor = createDatabaseMonitor({ probe: () => health.ready(), logger: o.log, selfHealing: o.selfHealing })
  monitor.start()
  const m = monitor
  return {
    db,
    engineDb,
    health,
    monitor,
    close: () => {
      m.stop()
      return Promise.all([probe.close(), engineDb.close(), db.close()])
    },
  }
}
