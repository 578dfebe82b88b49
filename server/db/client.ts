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
  close(): Promise<void>
}

export interface DatabaseOptions {
  max?: number
  onError?: (err: Error) => void
  /**
   * The longest one statement may run. Enforced by the client always (a
   * stalled or unreachable server answers nothing, so only the client can
   * give up), a second later than the server's own `statement_timeout` when
   * `serverStatementTimeout` is set, so a healthy server cancels its work
   * first and the connection stays usable. Default: 30 s, client-side only.
   */
  statementTimeoutMs?: number
  /** Send `statement_timeout` at connect: only where the server accepts it (see acceptsStatementTimeout). */
  serverStatementTimeout?: boolean
  /** How long a query may wait for a free connection (default 5 s). */
  connectionTimeoutMs?: number
}

/** The client's own limit trails the server's by this much, so the server's cancel (57014) is what a caller normally meets. */
const CLIENT_TIMEOUT_MARGIN_MS = 1_000

/**
 * One pg pool per process, under one PrismaClient (through its driver
 * adapter), and reached only through it. The pool is built here rather than
 * by the adapter so that its timeouts and idle-error handling are ours.
 * adapter-pg names no statement (no `statementNameGenerator` is given), so a
 * transaction-pooling PgBouncer never meets a prepared statement another
 * client's session made.
 */
export function createDatabase(url: string, opts: DatabaseOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 5_000,
    // A query stuck behind a dead or stalled server must fail, not hang a request.
    query_timeout: opts.statementTimeoutMs === undefined ? 30_000 : opts.statementTimeoutMs + (opts.serverStatementTimeout ? CLIENT_TIMEOUT_MARGIN_MS : 0),
    ...(opts.serverStatementTimeout && opts.statementTimeoutMs !== undefined ? { statement_timeout: opts.statementTimeoutMs } : {}),
    idleTimeoutMillis: 30_000,
  })
  // An idle client losing its server (Postgres restarted) must not crash the process.
  pool.on('error', (err) => opts.onError?.(err))
  // 'minimal': the default formats capture a stack (`new Error()`) on every
  // query call to point an error message at its call site, 13–22 µs of a
  // ~450 µs read (bench/RESULTS.md, issue 15); errors go to structured logs
  // with their own stack, so the call-site frame adds nothing there.
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool), errorFormat: 'minimal' })
  let closed = false
  return {
    prisma,
    async close() {
      if (closed) return
      closed = true
      await prisma.$disconnect().catch(() => {})
      await pool.end().catch(() => {})
    },
  }
}

/**
 * Whether the server behind `url` takes `statement_timeout` as a startup
 * parameter. Postgres does; PgBouncer refuses any it does not know
 * ("unsupported startup parameter", 08P01) unless told to ignore it, and
 * then it is silently not applied. Either way the client-side limit holds.
 * Any other failure is left to the callers that follow (false).
 */
export async function acceptsStatementTimeout(url: string, timeoutMs = 5_000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, statement_timeout: 60_000, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs })
  client.on('error', () => {})
  try {
    await client.connect()
    const { rows } = await client.query<{ statement_timeout: string }>('SHOW statement_timeout')
    // A pooler that ignores the parameter connects, but the server never saw it.
    return rows[0]?.statement_timeout === '1min'
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}
