import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { applyMigrations, readMigrations } from '../../server/db/migrate.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => db?.drop())

describe('migrations', () => {
  it('records every committed migration with the sha256 of its file, as Prisma does', async () => {
    const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }[]>(
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
    )
    const files = readMigrations()
    expect(files.length).toBeGreaterThan(0)
    expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(files.map((m) => [m.name, m.checksum]))
    for (const r of rows) {
      expect(r.finished_at).toBeInstanceOf(Date)
      expect(r.applied_steps_count).toBe(1)
    }
  })

  it('applying again is a no-op', async () => {
    const before = await db.prisma.$queryRawUnsafe('SELECT id, finished_at FROM "_prisma_migrations" ORDER BY id')
    const result = await applyMigrations(db.url)
    expect(result.applied).toEqual([])
    expect(result.alreadyApplied).toEqual(readMigrations().map((m) => m.name))
    const after = await db.prisma.$queryRawUnsafe('SELECT id, finished_at FROM "_prisma_migrations" ORDER BY id')
    expect(after).toEqual(before)
  })

  it('concurrent appliers queue on the advisory lock instead of racing', async () => {
    const fresh = await createTestDatabase()
    try {
      await fresh.prisma.$executeRawUnsafe('DROP SCHEMA public CASCADE')
      await fresh.prisma.$executeRawUnsafe('CREATE SCHEMA public')
      const results = await Promise.all([applyMigrations(fresh.url), applyMigrations(fresh.url), applyMigrations(fresh.url)])
      const appliedCount = results.reduce((n, r) => n + r.applied.length, 0)
      expect(appliedCount).toBe(readMigrations().length)
      const rows = await fresh.prisma.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM "_prisma_migrations"')
      expect(rows[0]!.n).toBe(readMigrations().length)
    } finally {
      await fresh.drop()
    }
  })

  it('produce exactly the tables and columns the Prisma schema describes (no drift)', async () => {
    const rows = await db.prisma.$queryRawUnsafe<{ table_name: string; column_name: string; is_nullable: string }[]>(
      `SELECT table_name, column_name, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    )
    const actual = new Map<string, Map<string, boolean>>()
    for (const r of rows) {
      if (!actual.has(r.table_name)) actual.set(r.table_name, new Map())
      actual.get(r.table_name)!.set(r.column_name, r.is_nullable === 'YES')
    }
    const expected = new Map<string, Map<string, boolean>>()
    // The schema file's own DMMF, from Prisma's schema parser (wasm; no engine needed).
    const { get_dmmf } = createRequire(import.meta.url)('@prisma/prisma-schema-wasm')
    const schema = fs.readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8')
    const dmmf = JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: [['schema.prisma', schema]] })))
    const models: { dbName: string | null; name: string; fields: { kind: string; name: string; dbName: string | null; isRequired: boolean }[] }[] =
      dmmf.datamodel.models
    expect(models.length).toBeGreaterThan(5)
    for (const model of models) {
      const cols = new Map<string, boolean>()
      for (const f of model.fields) {
        if (f.kind === 'object') continue
        cols.set(f.dbName ?? f.name, !f.isRequired)
      }
      expected.set(model.dbName ?? model.name, cols)
    }
    const asObj = (m: Map<string, Map<string, boolean>>) =>
      Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([t, c]) => [t, Object.fromEntries([...c].sort(([a], [b]) => a.localeCompare(b)))]))
    expect(asObj(actual)).toEqual(asObj(expected))
  })

  it('stores money as numeric, never binary floating point', async () => {
    const rows = await db.prisma.$queryRawUnsafe<{ data_type: string }[]>(
      `SELECT DISTINCT data_type FROM information_schema.columns
       WHERE table_schema = 'public' AND column_name IN ('final_price', 'original_price', 'discount')`,
    )
    expect(rows.map((r) => r.data_type)).toEqual(['numeric'])
    const floats = await db.prisma.$queryRawUnsafe(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type IN ('real', 'double precision')`,
    )
    expect(floats).toEqual([])
  })
})
