import { afterEach, describe, expect, it } from 'vitest'
import { addDays, localDate, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { crunchCounts } from '../../server/sync/claims.ts'
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
