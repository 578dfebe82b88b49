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
}

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
    connectionTimeoutMillis: 5_000,
    // A query stuck behind a dead server must fail, not hang a request forever.
    query_timeout: 30_000,
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
