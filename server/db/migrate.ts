import { createHash, randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { PrismaClient } from './client.ts'

/**
 * `prisma/migrations` of the package this module runs from: the nearest one
 * above it, so the same code finds it as `server/db/migrate.ts` under tsx and
 * bundled into `dist/main.js` by the build.
 */
export function findMigrationsDir(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'prisma', 'migrations')
    if (fs.existsSync(candidate)) return candidate
    if (dir === path.dirname(dir)) throw new Error(`no prisma/migrations directory above ${from}`)
  }
}

export const MIGRATIONS_DIR = findMigrationsDir()

// Any constant works; it only has to be the same for every slotsync instance.
const MIGRATION_LOCK_KEY = 72_707_369

export interface Migration {
  name: string
  sql: string
  checksum: string
}

export interface MigrateResult {
  applied: string[]
  alreadyApplied: string[]
}

/** Prisma's layout: one folder per migration, `<timestamp>_<name>/migration.sql`, applied in name order. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const buf = fs.readFileSync(path.join(dir, name, 'migration.sql'))
      return { name, sql: buf.toString('utf8'), checksum: createHash('sha256').update(buf).digest('hex') }
    })
}

// The table exactly as Prisma creates it, so `prisma migrate status/deploy`
// on a machine that has the engine reads our bookkeeping as its own.
const CREATE_PRISMA_MIGRATIONS = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`

export class MigrationError extends Error {
  override name = 'MigrationError'
}

type MigrationRow = { migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }

/**
 * Applies the committed migrations that the database has not seen, each in
 * its own transaction, so that concurrent starters queue instead of racing.
 * Refuses to continue past a failed migration or one whose file changed
 * after it was applied, as `prisma migrate deploy` does.
 *
 * The lock is transaction-scoped (pg_advisory_xact_lock), never a session
 * lock: behind a transaction-pooling PgBouncer, statements outside one
 * transaction may run on different server sessions, so a session lock could
 * be taken on one and "released" on another, leaking it for good.
 */
export async function applyMigrations(databaseUrl: string, opts: { dir?: string; log?: (msg: string) => void } = {}): Promise<MigrateResult> {
  const log = opts.log ?? (() => {})
  const migrations = readMigrations(opts.dir)
  // A short-lived pg.Client of its own, not Prisma: a migration file holds
  // many statements, which only the simple query protocol runs in one call,
  // and Prisma's raw API always binds (extended protocol, one statement).
  // It also runs before the process's PrismaClient exists.
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const locked = async <T>(fn: () => Promise<T>): Promise<T> => {
    await client.query('BEGIN')
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
      const result = await fn()
      await client.query('COMMIT')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    }
  }
  const recorded = async () => {
    const { rows } = await client.query<MigrationRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
    )
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null)
    if (failed) throw new MigrationError(`migration ${failed.migration_name} failed earlier and was not resolved; fix the database and mark it rolled back`)
    return new Map(rows.filter((r) => r.finished_at !== null).map((r) => [r.migration_name, r.checksum]))
  }
  try {
    const done = await locked(async () => {
      await client.query(CREATE_PRISMA_MIGRATIONS)
      return recorded()
    })
    const result: MigrateResult = { applied: [], alreadyApplied: [] }
    for (const m of migrations) {
      const seen = done.get(m.name)
      if (seen !== undefined) {
        if (seen !== m.checksum) log(`warning: migration ${m.name} was modified after it was applied (checksum differs)`)
        result.alreadyApplied.push(m.name)
        continue
      }
      const id = randomUUID()
      let applied: boolean
      try {
        applied = await locked(async () => {
          // Another starter may have applied it while this one waited for the lock.
          if ((await recorded()).has(m.name)) return false
          await client.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)', [
            id,
            m.checksum,
            m.name,
          ])
          await client.query(m.sql)
          await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id])
          return true
        })
      } catch (err) {
        if (err instanceof MigrationError) throw err
        // Recorded as Prisma records a failed migration (unfinished, with its
        // log), so that no instance builds on a half-known schema.
        await client
          .query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count) VALUES ($1, $2, $3, $4, now(), 0)', [
            id,
            m.checksum,
            m.name,
            String((err as Error).message),
          ])
          .catch(() => {})
        throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`)
      }
      if (applied) {
        log(`applied migration ${m.name}`)
        result.applied.push(m.name)
      } else result.alreadyApplied.push(m.name)
    }
    return result
  } finally {
    await client.end()
  }
}

/** True when every committed migration is recorded as finished. */
export async function migrationsUpToDate(prisma: Pick<PrismaClient, '$queryRaw'>, dir?: string): Promise<boolean> {
  const wanted = readMigrations(dir).map((m) => m.name)
  try {
    const rows = await prisma.$queryRaw<{ migration_name: string }[]>`SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`
    const have = new Set(rows.map((r) => r.migration_name))
    return wanted.every((n) => have.has(n))
  } catch {
    return false
  }
}
