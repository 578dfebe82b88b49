import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { Prisma, PrismaClient } from './generated/client.ts'

export { Prisma }
export type { PrismaClient }

/** The client itself or the one a `$transaction` callback receives: what a function that may run inside either takes. */
export type Db = PrismaClient | Prisma.TransactionClient

export interface Database {
  /** The data layer: model queries, and `$queryRaw`/`$executeRaw` for set-based SQL. */
  prisma: PrismaClient
  /**
   * @deprecated The pool under `prisma`, for the modules not moved to Prisma
   * yet (sync/snapshot.ts, availability/, changes/log.ts). Same connections,
   * not a second pool; new code uses `prisma`.
   */
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
 * The availability reads (still on the deprecated `pool`) name their
 * statements so each session plans them once. Behind a transaction-pooling
 * PgBouncer (before 1.21) a named statement outlives the transaction it was
 * prepared in and meets another client's session: the first such error
 * switches this pool to unnamed statements for good, and the query is
 * retried unnamed, so no request fails. Prisma's adapter never names a
 * statement (no `statementNameGenerator` is given), so this goes when the
 * last named query moves to Prisma.
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
 * One pg pool per process, under one PrismaClient (through its driver
 * adapter). The pool is built here rather than by the adapter so that its
 * timeouts and idle-error handling are ours.
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
