import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'
import { createDatabase, type Database } from '../../server/db/client.ts'

export interface TestDatabase extends Database {
  /** How the code under test connects (through the pooler in CI's PgBouncer leg). */
  url: string
  /** Postgres itself, never a pooler: for LISTEN (the service's DATABASE_DIRECT_URL). */
  directUrl: string
  name: string
  /** Closes connections and drops the database. */
  drop(): Promise<void>
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/**
 * The run's server, direct, as superuser (tests/helpers/global-setup.ts):
 * for creating and dropping databases, which a pooler would get in the way of.
 */
export function clusterUrl(database = 'postgres'): string {
  return withDatabase(inject('pgAdminUrl'), database)
}

/** How tests and the service reach a database: the same server, or the pooler before it. */
export function connectUrl(database: string): string {
  return withDatabase(inject('pgConnectUrl'), database)
}

/**
 * A fresh, fully migrated database of its own, cloned from the run's
 * template in a few milliseconds.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`
  // Bootstrapping, before the database (and its PrismaClient) exists: a short-lived client to the maintenance database.
  const admin = new pg.Client({ connectionString: clusterUrl() })
  await admin.connect()
  try {
    // CREATE DATABASE ... TEMPLATE fails if another session is connected to the template.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('pgTemplate')}`)
        break
      } catch (err) {
        if (attempt > 50 || (err as { code?: string }).code !== '55006') throw err
        await new Promise((r) => setTimeout(r, 50))
      }
    }
  } finally {
    await admin.end()
  }
  const url = connectUrl(name)
  const db = createDatabase(url)
  return {
    ...db,
    url,
    directUrl: clusterUrl(name),
    name,
    async drop() {
      await db.close()
      const c = new pg.Client({ connectionString: clusterUrl() })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
      await c.end()
    },
  }
}
