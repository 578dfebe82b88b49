import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyMigrations, MigrationError } from '../../server/db/migrate.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

let db: TestDatabase
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotsync-migr-'))
beforeAll(async () => {
  db = await createTestDatabase()
  await db.prisma.$executeRawUnsafe('DROP SCHEMA public CASCADE')
  await db.prisma.$executeRawUnsafe('CREATE SCHEMA public')
  const write = (name: string, sql: string) => {
    fs.mkdirSync(path.join(dir, name))
    fs.writeFileSync(path.join(dir, name, 'migration.sql'), sql)
  }
  write('20260101000000_good', 'CREATE TABLE good (id int PRIMARY KEY);')
  write('20260102000000_bad', 'CREATE TABLE half (id int); SELECT no_such_function();')
})
afterAll(async () => {
  await db?.drop()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('a failing migration', () => {
  it('is rolled back whole, recorded as failed, blocks the next start, and leaves no lock behind', async () => {
    await expect(applyMigrations(db.url, { dir })).rejects.toThrow(/migration 20260102000000_bad failed: .*no_such_function/)
    const tables = (await db.prisma.$queryRawUnsafe<{ tablename: string }[]>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map(
      (r) => r.tablename,
    )
    expect(tables).toEqual(['_prisma_migrations', 'good']) // no "half"
    const rows = await db.prisma.$queryRawUnsafe(
      'SELECT migration_name, finished_at IS NOT NULL AS finished, logs FROM "_prisma_migrations" ORDER BY migration_name',
    )
    expect(rows).toEqual([
      { migration_name: '20260101000000_good', finished: true, logs: null },
      { migration_name: '20260102000000_bad', finished: false, logs: expect.stringContaining('no_such_function') },
    ])
    const again = applyMigrations(db.url, { dir })
    await expect(again).rejects.toBeInstanceOf(MigrationError)
    await expect(again).rejects.toThrow(/20260102000000_bad failed earlier/)
    // Transaction-scoped locks only: nothing survives the transactions, in any session. pg_locks
    // covers the whole cluster, where other test files' writers hold their own locks meanwhile.
    expect(
      (
        await db.prisma.$queryRawUnsafe<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        )
      )[0]!.n,
    ).toBe(0)
  })
})
