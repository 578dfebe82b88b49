import pg from 'pg'
import type { PrismaClient } from './client.ts'
import type { HealthService, LiveView, ReadyView } from './health-types.ts'
import type { ProbeOutcome } from './health-state.ts'
import { migrationsUpToDate, readMigrations } from './migrate.ts'
import { sqlState } from './transaction.ts'

/** One look at the database: reachable at all, and migrated. */
export type ProbeResult = { reachable: true; migrated: boolean } | { reachable: false; reason: string }

export interface DatabaseProbe {
  check(): Promise<ProbeResult>
  close(): Promise<void>
}

/** /ready answers within 2 s (the contract): the probe gets this much, the rest is HTTP. */
export const READY_TIMEOUT_MS = 1_500

const MIGRATIONS_SQL = `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`

/**
 * A probe over one connection of its own, outside the pools: /ready then
 * says whether the database answers, not whether a flood of reads has taken
 * every pooled connection (that is the rate limit's and the pool's business).
 * A connection that failed or timed out is dropped; the next check opens a new one.
 */
export function createDatabaseProbe(url: string, timeoutMs = READY_TIMEOUT_MS): DatabaseProbe {
  let client: pg.Client | undefined
  let closed = false
  const drop = (c: pg.Client | undefined) => {
    if (client === c) client = undefined
    void c?.end().catch(() => {})
  }
  return {
    async check() {
      if (closed) return { reachable: false, reason: 'shutting down' }
      let c = client
      try {
        if (!c) {
          const fresh = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs })
          fresh.on('error', () => drop(fresh))
          c = client = fresh
          await fresh.connect()
        }
        const { rows } = await c.query<{ migration_name: string }>(MIGRATIONS_SQL)
        const have = new Set(rows.map((r) => r.migration_name))
        return { reachable: true, migrated: readMigrations().every((m) => have.has(m.name)) }
      } catch (err) {
        // The server answered: reachable, the migrations table is not there yet.
        if (sqlState(err) === '42P01') return { reachable: true, migrated: false }
        drop(c)
        return { reachable: false, reason: describe(err) }
      }
    },
    async close() {
      closed = true
      drop(client)
    },
  }
}

/** The same look through a PrismaClient's pool (tests that build the API without a server). */
export function prismaProbe(prisma: PrismaClient): DatabaseProbe {
  return {
    async check() {
      try {
        await prisma.$executeRaw`SELECT 1`
      } catch (err) {
        return { reachable: false, reason: describe(err) }
      }
      return { reachable: true, migrated: await migrationsUpToDate(prisma) }
    },
    close: async () => {},
  }
}

// /ready is public: the reason names the failure's kind (a driver or SQLSTATE
// code), never the message, which may carry the database's address.
function describe(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err)
  if (/timeout|timed out/i.test(m)) return 'the database did not answer in time'
  const code = errorCode(err)
  return code ? `the database is unreachable (${code})` : 'the database is unreachable'
}

/** The innermost code: Prisma's wrapper (P2010) says less than the driver's (ECONNREFUSED) inside it. */
function errorCode(err: unknown): string | undefined {
  let found: string | undefined
  type Link = { code?: unknown; kind?: unknown; cause?: unknown; errors?: unknown; meta?: { driverAdapterError?: unknown } }
  for (let e = err as Link | undefined, depth = 0; e && depth < 6; depth++) {
    // adapter-pg's failures carry their kind (DatabaseNotReachable, ...) under meta, not as a cause.
    const code = e.code ?? e.kind
    if (typeof code === 'string' && /^[\w.-]{1,40}$/.test(code)) found = code
    e = (e.cause ?? e.meta?.driverAdapterError ?? (Array.isArray(e.errors) ? e.errors[0] : undefined)) as Link | undefined
  }
  return found
}

export interface HealthOptions {
  /** Default READY_TIMEOUT_MS. */
  timeoutMs?: number
  /** Every probe's outcome, for the availability monitor. */
  onOutcome?: (o: ProbeOutcome) => void
  /** Liveness; default always live. */
  live?: () => LiveView
}

/**
 * Readiness within a deadline whatever the database does: concurrent
 * callers share the probe in flight (a stall does not pile up one hanging
 * query per /ready), and a probe that outlasts the deadline answers "not
 * ready" while it finishes or fails in the background.
 */
export function createHealthService(source: PrismaClient | DatabaseProbe, opts: HealthOptions = {}): HealthService {
  const probe = 'check' in source ? source : prismaProbe(source)
  const timeoutMs = opts.timeoutMs ?? READY_TIMEOUT_MS
  let inFlight: Promise<ProbeResult> | undefined

  function shared(): Promise<ProbeResult> {
    if (!inFlight) {
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<ProbeResult>((resolve) => {
        timer = setTimeout(() => resolve({ reachable: false, reason: `the database did not answer within ${timeoutMs / 1000} s` }), timeoutMs)
      })
      inFlight = Promise.race([probe.check(), deadline]).finally(() => {
        clearTimeout(timer)
        inFlight = undefined
      })
      void inFlight.then((r) => opts.onOutcome?.(r.reachable ? { ok: true } : { ok: false, reason: r.reason }))
    }
    return inFlight
  }

  return {
    async ready(): Promise<ReadyView> {
      const r = await shared()
      if (!r.reachable) return { ready: false, database: false, migrations: false, reason: r.reason }
      // A read-only instance (SYNC_ENABLED=false) never migrates: it waits here for one that does.
      if (!r.migrated)
        return {
          ready: false,
          database: true,
          migrations: false,
          reason: 'the database schema is not migrated yet: an instance with SYNC_ENABLED=true applies the migrations at start',
        }
      return { ready: true, database: true, migrations: true }
    },
    live: () => opts.live?.() ?? { ok: true },
  }
}
