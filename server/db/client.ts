import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from './generated/client.ts'

export type { PrismaClient }

export interface Database {
  /** Typed access for ordinary reads and writes. */
  prisma: PrismaClient
  /** The same connections, for set-based SQL (snapshot writes, claims, aggregates). */
  pool: pg.Pool
  close(): Promise<void>
}

export interface DatabaseOptions {
  max?: number
  onError?: (err: Error) => void
  /** Called once if the server turns out not to keep prepared statements (see preparedStatementFallback). */
  onUnprepared?: (err: Error) => void
}

// 26000: a name the client prepared is unknown to the server session it now
// talks to; 42P05: the session already has a statement of that name. Both
// are raised at Parse/Bind, before anything runs, so a retry is safe.
const LOST_PREPARED_STATEMENT = new Set(['26000', '42P05'])

/**
 * The hot reads name their statements so each session plans them once
 * (planning the day query costs more than running it). Behind a
 * transaction-pooling PgBouncer (before 1.21) a named statement outlives
 * the transaction it was prepared in and meets another client's session:
 * the first such error switches this pool to unnamed statements for good,
 * and the query is retried unnamed, so no request fails.
 */
function preparedStatementFallback(pool: pg.Pool, onUnprepared?: (err: Error) => void): void {
  const original = pool.query as (...args: unknown[]) => unknown
  const query = (config: unknown, values?: unknown) => original.call(pool, config, values) as Promise<pg.QueryResult>
  let named = true
  const unnamed = (config: pg.QueryConfig) => ({ ...config, name: undefined })
  pool.query = ((config: unknown, values?: unknown, callback?: unknown) => {
    const cfg = config as pg.QueryConfig
    if (typeof values === 'function' || callback !== undefined || typeof config !== 'object' || config === null || !cfg.name) {
      return original.call(pool, config, values, callback)
    }
    if (!named) return query(unnamed(cfg), values)
    return query(cfg, values).catch((err: Error & { code?: string }) => {
      if (!err.code || !LOST_PREPARED_STATEMENT.has(err.code)) throw err
      if (named) {
        named = false
        onUnprepared?.(err)
      }
      return query(unnamed(cfg), values)
    })
  }) as typeof pool.query
}

/**
 * One pg pool shared by Prisma (through its driver adapter) and by the raw SQL
 * of the hot paths, so the two never compete for connections.
 */
export function createDatabase(url: string, opts: DatabaseOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5_000,
    // A query stuck behind a dead server must fail, not hang a request forever.
    query_timeout: 30_000,
    idleTimeoutMillis: 30_000,
  })
  // An idle client losing its server (Postgres restarted) must not crash the process.
  pool.on('error', (err) => opts.onError?.(err))
  preparedStatementFallback(pool, opts.onUnprepared)
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
  let closed = false
  return {
    prisma,
    pool,
    async close() {
      if (closed) return
      closed = true
      await prisma.$disconnect().catch(() => {})
      await pool.end().catch(() => {})
    },
  }
}
