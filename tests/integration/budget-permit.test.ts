import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { manualClock } from '../../server/clock.ts'
import { createBudget, DISPATCH_LOCK_KEY } from '../../server/sync/budget.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => db?.drop())

describe('the dispatch transaction (budget permit)', () => {
  it("waits for the dispatch lock longer than Prisma's default 5 s transaction timeout, then decides", async () => {
    const clock = manualClock(Date.parse('2026-12-01T02:00:00Z'))
    const budget = createBudget(db.prisma, { limitPerMinute: 30, instanceId: 'waiter', clock })
    // Another instance (its own connection) holds the lock 6 s mid-decision.
    const other = new pg.Client({ connectionString: db.url })
    await other.connect()
    try {
      await other.query('BEGIN')
      await other.query('SELECT pg_advisory_xact_lock($1)', [DISPATCH_LOCK_KEY])
      const t0 = Date.now()
      const permit = budget.permit(async (tx) => (await tx.$queryRaw<{ one: number }[]>`SELECT 1::int AS one`)[0]!.one)
      await new Promise((r) => setTimeout(r, 6_000))
      await other.query('COMMIT')
      const p = await permit
      expect(Date.now() - t0).toBeGreaterThanOrEqual(6_000)
      expect(p.granted).toBe(1)
      expect(p.usedInWindow).toBe(1)
      expect(await db.prisma.partnerRequest.count({ where: { instanceId: 'waiter' } })).toBe(1)
    } finally {
      await other.end()
    }
  }, 20_000)

  it('rolls back the claim with the stamp when the claim throws', async () => {
    const clock = manualClock(Date.parse('2026-12-01T03:00:00Z'))
    const budget = createBudget(db.prisma, { limitPerMinute: 30, instanceId: 'thrower', clock })
    await expect(
      budget.permit(async (tx) => {
        await tx.syncControl.updateMany({ where: { id: 1 }, data: { lastError: 'inside the permit' } })
        throw new Error('claim failed')
      }),
    ).rejects.toThrow('claim failed')
    expect((await db.prisma.syncControl.findUnique({ where: { id: 1 } }))?.lastError).toBeNull()
    expect(await db.prisma.partnerRequest.count({ where: { instanceId: 'thrower' } })).toBe(0)
  })

  it('a check asking for a place in a full window makes scheduled work leave it the next place that frees', async () => {
    const t0 = Date.parse('2026-12-01T04:00:00Z')
    const clock = manualClock(t0)
    // A 6-place lane; no live send yet, so nothing is kept: scheduled work fills the window.
    const budget = createBudget(db.prisma, { limitPerMinute: 30, instanceId: 'asker', clock, liveShare: 0.2, burstMs: 60_000 })
    const one = async () => 1
    for (let i = 0; i < 30; i++) {
      expect((await budget.permit(one)).granted).toBe(1)
      clock.advance(1_000)
    }
    const refused = await budget.permit(one, 'live')
    expect(refused.skipped).toBe('budget')
    // The first send leaves the window, one place frees: scheduled work must leave it to the waiting check.
    clock.set(t0 + budget.windowMs + 500)
    expect((await budget.permit(one)).skipped).toBe('budget')
    expect((await budget.permit(one, 'live')).granted).toBe(1)
  })
})
