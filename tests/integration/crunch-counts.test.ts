import { afterEach, describe, expect, it } from 'vitest'
import { addDays, localDate, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { crunchCounts, loadCandidates, pullAheadOfCrunch } from '../../server/sync/claims.ts'
import { pullPlan } from '../../server/sync/planner.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

/** The counts the engine feeds planner.ts `crunchAhead`: open days tomorrow and on days 2–8, in each product's calendar. */
let db: TestDatabase | undefined
afterEach(async () => {
  await db?.drop()
  db = undefined
})

// 23:30 in Singapore is still the afternoon of the same day in Amsterdam: "tomorrow" differs per product.
const NOW = zonedTimeToInstant('2026-12-01', '23:30', 'Asia/Singapore')

describe('crunchCounts', () => {
  it('counts open (ok) days of active, unpaused products, tomorrow apart from days 2–8', async () => {
    db = await createTestDatabase()
    const products = [
      { id: 1, tz: 'Asia/Singapore', paused: false },
      { id: 2, tz: 'Europe/Amsterdam', paused: false },
      { id: 3, tz: 'Asia/Singapore', paused: true },
    ]
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO product (id, time_zone, paused) SELECT * FROM unnest($1::int[], $2::text[], $3::bool[])`,
      products.map((p) => p.id),
      products.map((p) => p.tz),
      products.map((p) => p.paused),
    )
    const rows: { id: number; date: string; outcome: 'ok' | 'empty' }[] = []
    for (const p of products) {
      const today = localDate(NOW, p.tz)
      // Today, tomorrow and days 2–8 open but day 5; day 9 empty.
      for (let off = 0; off <= 9; off++) rows.push({ id: p.id, date: addDays(today, off), outcome: off === 5 || off === 9 ? 'empty' : 'ok' })
    }
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO day_fetch_state (product_id, date, last_outcome, next_due_at)
       SELECT id, d, o::fetch_outcome, now() FROM unnest($1::int[], $2::date[], $3::text[]) AS r(id, d, o)`,
      rows.map((r) => r.id),
      rows.map((r) => r.date),
      rows.map((r) => r.outcome),
    )
    // Products 1 and 2 count (paused 3 does not): each 1 tomorrow, 6 of days 2–8 (day 5 is empty).
    expect(await crunchCounts(db.prisma, NOW)).toEqual({ tomorrowOpen: 2, weekOpen: 12 })
    // An hour later Singapore's midnight has passed and Amsterdam's has not: product 1's days 2–8 now end with
    // its empty day 9, product 2's are as they were.
    expect(await crunchCounts(db.prisma, NOW + 3_600_000)).toEqual({ tomorrowOpen: 2, weekOpen: 11 })
  })
})

describe('pullAheadOfCrunch', () => {
  const SGT = 'Asia/Singapore'
  const at = (day: string, time: string) => zonedTimeToInstant(day, time, SGT)
  const TODAY = '2026-12-01'

  async function seed(rows: { id: number; off: number; outcome: 'ok' | 'empty'; fetched: number; due: number }[]) {
    db = await createTestDatabase()
    await db.prisma.$executeRawUnsafe(`INSERT INTO product (id, time_zone, paused) VALUES (1, '${SGT}', false), (2, '${SGT}', true)`)
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO day_fetch_state (product_id, date, last_outcome, last_fetched_at, next_due_at)
       SELECT id, d, o::fetch_outcome, lf, nd FROM unnest($1::int[], $2::date[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS r(id, d, o, lf, nd)`,
      rows.map((r) => r.id),
      rows.map((r) => addDays(TODAY, r.off)),
      rows.map((r) => r.outcome),
      rows.map((r) => new Date(r.fetched)),
      rows.map((r) => new Date(r.due)),
    )
  }
  const dueAt = async () =>
    Object.fromEntries(
      (
        await db!.prisma.$queryRawUnsafe<{ product_id: number; date: string; next_due_at: Date }[]>(
          `SELECT product_id, date::text AS date, next_due_at FROM day_fetch_state ORDER BY product_id, date`,
        )
      ).map((r) => [`${r.product_id}:${r.date}`, r.next_due_at.getTime()]),
    )

  it("brings forward tomorrow's open days 8-30 due from an hour before the sweep to the crunch's end, in order, once, from local noon", async () => {
    const morning = at(TODAY, '03:00')
    const inCrunch = at('2026-12-02', '02:30')
    const lateInCrunch = at('2026-12-02', '11:00')
    await seed([
      { id: 1, off: 9, outcome: 'ok', fetched: morning, due: inCrunch }, // pulled: tomorrow's day 8
      { id: 1, off: 31, outcome: 'ok', fetched: morning, due: lateInCrunch }, // pulled: tomorrow's day 30
      { id: 1, off: 14, outcome: 'ok', fetched: at('2026-11-30', '23:00'), due: at(TODAY, '22:30') }, // pulled: due behind the sweep
      { id: 1, off: 15, outcome: 'ok', fetched: at('2026-11-30', '21:30'), due: at(TODAY, '21:00') }, // pulled: due as the pull lands
      { id: 1, off: 16, outcome: 'ok', fetched: at('2026-11-30', '21:29'), due: at(TODAY, '20:59') }, // due before the pull lands anyway
      { id: 1, off: 8, outcome: 'ok', fetched: morning, due: inCrunch }, // tomorrow's day 7: the sweep's
      { id: 1, off: 32, outcome: 'ok', fetched: morning, due: inCrunch }, // tomorrow's day 31
      { id: 1, off: 10, outcome: 'empty', fetched: morning, due: inCrunch }, // closed
      { id: 1, off: 11, outcome: 'ok', fetched: at(TODAY, '13:00'), due: inCrunch }, // fetched since noon
      { id: 1, off: 12, outcome: 'ok', fetched: morning, due: at('2026-12-02', '12:30') }, // due after the crunch
      { id: 1, off: 13, outcome: 'ok', fetched: morning, due: at(TODAY, '18:00') }, // due in the afternoon anyway
      { id: 2, off: 9, outcome: 'ok', fetched: morning, due: inCrunch }, // paused product
    ])
    const before = await dueAt()
    // A 2 h sweep opens at 22:00: the pull lands by 21:00, and 21:00 → the crunch's end (15 h) maps onto noon → 21:00 (9 h).
    const plan = pullPlan({ sweep: true, sweepMs: 2 * 3_600_000 })
    expect(plan.landsByMs).toBe(21 * 3_600_000)
    expect(plan.scale).toBeCloseTo(9 / 15, 12)
    // Before local noon nothing moves.
    expect(await pullAheadOfCrunch(db!.prisma, at(TODAY, '11:59'), plan)).toBe(0)
    const now = at(TODAY, '14:00')
    expect(await pullAheadOfCrunch(db!.prisma, now, plan)).toBe(4)
    const after = await dueAt()
    // 21:00 is due at noon, 22:30 at 12:54, 02:30 in the crunch at 15:18, 11:00 at 20:24: the order of what the crunch would cost is kept.
    expect(after[`1:${addDays(TODAY, 15)}`]).toBe(at(TODAY, '12:00'))
    expect(after[`1:${addDays(TODAY, 14)}`]).toBe(at(TODAY, '12:54'))
    expect(after[`1:${addDays(TODAY, 9)}`]).toBe(at(TODAY, '15:18'))
    expect(after[`1:${addDays(TODAY, 31)}`]).toBe(at(TODAY, '20:24'))
    const moved = Object.keys(after).filter((k) => after[k] !== before[k])
    expect(moved.sort()).toEqual([9, 14, 15, 31].map((off) => `1:${addDays(TODAY, off)}`).sort())
    // Brought forward, they are due before the landing: a second pass finds nothing.
    expect(await pullAheadOfCrunch(db!.prisma, now + 60_000, plan)).toBe(0)
    expect(await pullAheadOfCrunch(db!.prisma, at(TODAY, '23:30'), plan)).toBe(0)
    await expect(pullAheadOfCrunch(db!.prisma, now, { ...plan, scale: 1.5 })).rejects.toThrow(/pull scale/)
    await expect(pullAheadOfCrunch(db!.prisma, now, { ...plan, landsByMs: 3_600_000 })).rejects.toThrow(/pull landing/)
  })

  it('lists day 8 always and due days 9-31 before a backlog of days 32-59 that fell due earlier', async () => {
    const now = at(TODAY, '14:00')
    await seed([
      { id: 1, off: 40, outcome: 'ok', fetched: at('2026-11-20', '10:00'), due: at('2026-11-25', '10:00') },
      { id: 1, off: 41, outcome: 'ok', fetched: at('2026-11-20', '10:00'), due: at('2026-11-25', '11:00') },
      { id: 1, off: 20, outcome: 'ok', fetched: at('2026-11-30', '13:00'), due: at(TODAY, '12:30') },
      // Day 31 is tomorrow's day 30: listed with days 9-30.
      { id: 1, off: 31, outcome: 'ok', fetched: at('2026-11-30', '13:00'), due: at(TODAY, '12:40') },
      { id: 1, off: 21, outcome: 'ok', fetched: at('2026-11-30', '13:00'), due: at(TODAY, '12:50') },
      // Due last, yet listed: tomorrow's day 7, which the sweep ranks with days 1-7.
      { id: 1, off: 8, outcome: 'ok', fetched: at('2026-11-30', '13:00'), due: at(TODAY, '13:55') },
    ])
    const listed = await loadCandidates(db!.prisma, now, 2)
    expect(listed.map((c) => c.date)).toEqual([addDays(TODAY, 8), addDays(TODAY, 20), addDays(TODAY, 31)])
  })
})
