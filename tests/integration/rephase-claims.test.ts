import { afterEach, describe, expect, it } from 'vitest'
import { addDays, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { claimNext, loadRephase, syncedTimeZones } from '../../server/sync/claims.ts'
import { rankRephase, rephaseWindow, rephaseWindows } from '../../server/sync/rephase.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

/** The SQL side of rephase.ts: listing days 2-7 before they are due, and claiming one of them beside due pairs. */
let db: TestDatabase | undefined
afterEach(async () => {
  await db?.drop()
  db = undefined
})

const SGT = 'Asia/Singapore'
const TODAY = '2026-11-30'
const at = (time: string, date = TODAY) => zonedTimeToInstant(date, time, SGT)
const CTX = { sweep: true, sweepMs: 110 * 60_000 }
const NOW = at('07:00') // window: due 08:05-09:25 (tests/unit/rephase.test.ts)

type Row = { id: number; off: number; outcome: 'ok' | 'empty'; due: number }

async function seed(rows: Row[]) {
  db = await createTestDatabase()
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO product (id, time_zone, paused) VALUES (1, '${SGT}', false), (2, '${SGT}', true), (3, 'Europe/Amsterdam', false)`,
  )
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO day_fetch_state (product_id, date, last_outcome, last_fetched_at, last_slot_start, next_due_at)
     SELECT id, d, o::fetch_outcome, nd - interval '235 minutes', CASE WHEN o = 'ok' THEN '17:00' END, nd
     FROM unnest($1::int[], $2::date[], $3::text[], $4::timestamptz[]) AS r(id, d, o, nd)`,
    rows.map((r) => r.id),
    rows.map((r) => addDays(TODAY, r.off)),
    rows.map((r) => r.outcome),
    rows.map((r) => new Date(r.due)),
  )
}

describe('loadRephase', () => {
  it("lists open days 2-7 of synced products due inside their zone's window, earliest due first", async () => {
    await seed([
      { id: 1, off: 3, outcome: 'ok', due: at('09:20') },
      { id: 1, off: 2, outcome: 'ok', due: at('08:10') },
      { id: 1, off: 4, outcome: 'ok', due: at('07:30') }, // before the window
      { id: 1, off: 5, outcome: 'ok', due: at('09:25') }, // the window's end: one more request
      { id: 1, off: 6, outcome: 'empty', due: at('09:00') }, // nothing on sale
      { id: 1, off: 1, outcome: 'ok', due: at('09:00') }, // day 1
      { id: 1, off: 8, outcome: 'ok', due: at('09:00') }, // day 8
      { id: 2, off: 3, outcome: 'ok', due: at('09:00') }, // paused
    ])
    expect(await syncedTimeZones(db!.prisma)).toEqual(['Asia/Singapore', 'Europe/Amsterdam'])
    const w = rephaseWindow(NOW, TODAY, SGT, CTX)!
    const sgt = new Map([[SGT, w]])
    const listed = await loadRephase(db!.prisma, NOW, sgt, 10)
    expect(listed.map((c) => c.date)).toEqual([addDays(TODAY, 2), addDays(TODAY, 3)])
    // The planner keeps both; a limit keeps the earliest.
    expect(
      rankRephase(
        listed,
        () => TODAY,
        rephaseWindows(NOW, [SGT], () => TODAY, CTX),
      ).map((c) => c.date),
    ).toEqual([addDays(TODAY, 2), addDays(TODAY, 3)])
    expect((await loadRephase(db!.prisma, NOW, sgt, 1)).map((c) => c.date)).toEqual([addDays(TODAY, 2)])
    // A zone without a window lists nothing of its products.
    expect(await loadRephase(db!.prisma, NOW, new Map([['Europe/Amsterdam', w]]), 10)).toEqual([])
  })
})

describe('claimNext with pairs not yet due', () => {
  it('claims a listed early pair beside due ones, unless it was fetched since it was listed', async () => {
    await seed([
      { id: 1, off: 2, outcome: 'ok', due: at('08:10') },
      { id: 1, off: 3, outcome: 'ok', due: at('09:20') },
      { id: 1, off: 4, outcome: 'ok', due: at('06:00') }, // due
    ])
    const [first, second] = await loadRephase(
      db!.prisma,
      NOW,
      rephaseWindows(NOW, [SGT], () => TODAY, CTX),
      10,
    )
    const due = { productId: 1, date: addDays(TODAY, 4), nextDueAt: at('06:00') }
    // Not flagged early, a pair that is not due is skipped; flagged, it is claimed.
    const notFlagged = await claimNext(db!.prisma, [{ ...first! }, due], 'a', NOW, 60_000)
    expect(notFlagged.pair?.date).toBe(addDays(TODAY, 4))
    expect(notFlagged.skipped).toBe(1)
    const flagged = await claimNext(db!.prisma, [{ ...first!, early: true }], 'a', NOW, 60_000)
    expect(flagged.pair?.date).toBe(addDays(TODAY, 2))
    // Fetched by another instance after it was listed (its due time moved): not claimed again.
    await db!.prisma.$executeRawUnsafe(`UPDATE day_fetch_state SET next_due_at = next_due_at + interval '1 hour' WHERE date = $1::date`, addDays(TODAY, 3))
    const stale = await claimNext(db!.prisma, [{ ...second!, early: true }], 'b', NOW, 60_000)
    expect(stale).toEqual({ skipped: 1 })
  })
})
