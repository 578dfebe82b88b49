import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, type Database } from '../../server/db/client.ts'
import { clusterUrl, createTestDatabase, type TestDatabase } from '../helpers/db.ts'

let base: TestDatabase
beforeAll(async () => {
  base = await createTestDatabase()
})
afterAll(async () => base?.drop())

const TZ = { name: 'test_tz', text: 'SELECT $1::int + 1 AS n', values: [41] }

describe('named statements on a connection that loses them (as behind a transaction-pooling PgBouncer)', () => {
  let db: Database
  const fallbacks: Error[] = []
  beforeAll(() => {
    // One direct connection (never a pooler's), so the statement this test
    // drops is the one the client thinks it prepared.
    db = createDatabase(clusterUrl(base.name), { max: 1, onUnprepared: (err) => fallbacks.push(err) })
  })
  afterAll(async () => db?.close())

  it('retries unnamed and switches the pool to unnamed statements, reporting it once', async () => {
    expect((await db.pool.query(TZ)).rows).toEqual([{ n: 42 }])
    expect((await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = $1', ['test_tz'])).rows[0]!.n).toBe(1)
    // The server session forgets it; pg still believes it is prepared (it only sends Bind).
    await db.pool.query('DEALLOCATE test_tz')
    expect((await db.pool.query(TZ)).rows).toEqual([{ n: 42 }])
    expect(fallbacks).toHaveLength(1)
    expect(fallbacks[0]!.message).toMatch(/prepared statement "test_tz" does not exist/)
    expect((await db.pool.query({ ...TZ, name: 'test_other' })).rows).toEqual([{ n: 42 }])
    const left = await db.pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements')
    expect(left.rows.map((r) => r.name)).not.toContain('test_other') // unnamed from now on
    expect(fallbacks).toHaveLength(1)
  })

  it('passes other errors through untouched', async () => {
    await expect(db.pool.query({ name: 'test_bad', text: 'SELECT 1/0' })).rejects.toMatchObject({ code: '22012' })
  })
})

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
    await db.prisma.$transaction(async (tx) => {
      await tx.syncControl.findUnique({ where: { id: 1 } })
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${1})`
    })
    const left = await db.prisma.$queryRaw<{ name: string }[]>`SELECT name FROM pg_prepared_statements`
    expect(left).toEqual([])
  })
})
