import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadDay } from '../../server/availability/queries.ts'
import { readChangesAfter } from '../../server/changes/log.ts'
import { createDatabase, type Database } from '../../server/db/client.ts'
import { clusterUrl, createTestDatabase, type TestDatabase } from '../helpers/db.ts'

let base: TestDatabase
beforeAll(async () => {
  base = await createTestDatabase()
})
afterAll(async () => base?.drop())

describe("Prisma's statements (adapter-pg)", () => {
  let db: Database
  beforeAll(() => {
    // One direct connection, so the session checked below is the one Prisma used.
    db = createDatabase(clusterUrl(base.name), { max: 1 })
  })
  afterAll(async () => db?.close())

  it('leave no prepared statement in the session, so a transaction-pooling PgBouncer cannot mix them up', async () => {
    expect(await db.prisma.$queryRaw<{ n: number }[]>`SELECT ${41}::int + 1 AS n`).toEqual([{ n: 42 }])
    expect(await db.prisma.product.findMany({ where: { id: 1 } })).toEqual([])
    // The hot reads and the change log's replay, which once used named statements.
    expect(await loadDay(db.prisma, 1, '2026-12-01')).toBeUndefined()
    expect(await readChangesAfter(db.prisma, 0, { limit: 10 })).toEqual([])
    await db.prisma.$transaction(async (tx) => {
      await tx.syncControl.findUnique({ where: { id: 1 } })
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${1})`
    })
    const left = await db.prisma.$queryRaw<{ name: string }[]>`SELECT name FROM pg_prepared_statements`
    expect(left).toEqual([])
  })
})
