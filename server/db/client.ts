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
