import type { Prisma, PrismaClient } from './client.ts'

/**
 * How long a Prisma interactive transaction may wait for a connection
 * (`maxWait`) and run (`timeout`). Prisma's defaults (2 s, 5 s) are too
 * short for ours: the dispatch decision and the controls that exclude it
 * queue on one advisory lock, and on a loaded 2-core machine a wait for it
 * alone can pass 5 s. Past `timeout` Prisma rolls back and the caller gets
 * an error (the engine backs off; the API answers 5xx), never a silent hang.
 *
 * adapter-pg releases a transaction's connection without an error even
 * when it broke mid-transaction, but pg-pool itself never takes back a
 * client whose socket ended or errored (`_queryable` false), which is how a
 * connection breaks when Postgres goes away (tests/reliability/db-outage).
 */
export const TX = {
  /** One send decision under the dispatch lock (budget.ts `permit`), ~1/s per instance. */
  dispatch: { maxWait: 10_000, timeout: 30_000 },
  /** Pause/resume and product removal: they wait for the dispatch lock too. */
  control: { maxWait: 10_000, timeout: 30_000 },
} as const satisfies Record<string, { maxWait: number; timeout: number }>

/** Runs `fn` in one Prisma transaction: commit on success, roll back on any error. */
export function transaction<T>(prisma: PrismaClient, opts: { maxWait: number; timeout: number }, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  return prisma.$transaction(fn, opts)
}

/**
 * The SQLSTATE of a failed statement, from a pg error or from Prisma's
 * wrapper around one (a raw query's P2010 keeps the driver's error as
 * `meta.driverAdapterError`), else undefined.
 */
export function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; code?: unknown } } } } | null
  const cause = e?.meta?.driverAdapterError?.cause
  const code = cause?.originalCode ?? cause?.code ?? e?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}
