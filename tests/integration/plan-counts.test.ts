import { afterEach, describe, expect, it } from 'vitest'
import { addDays, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { planCounts } from '../../server/sync/plan-counts.ts'
import { computePlan, SLICES } from '../../server/sync/policy/plan.ts'
import { HOUR, MINUTE } from '../../server/sync/tiers.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

/**
 * What the plan counts, read from the database: open days by when they go
 * stale, and re-checks of days with nothing on sale by when they are due,
 * in the tier they are served in (policy/deadline.ts servedTier), not as
 * open days of their own tier.
 */
let db: TestDatabase | undefined
afterEach(async () => {
  await db?.drop()
  db = undefined
})

const TZ = 'Asia/Singapore'
const TODAY = '2026-12-01'
const NOW = zonedTimeToInstant(TODAY, '10:00', TZ)

describe('planCounts', () => {
  it('counts a due re-check in the tier it is served in, by the boundary it is due at; retries and open days as before', async () => {
    db = await createTestDatabase()
    await db.prisma.$executeRawUnsafe(`INSERT INTO product (id, time_zone) VALUES (1, $1)`, TZ)
    // offset, reason, slots, due (ms from now)
    const rows: [number, string, number, number][] = [
      [3, 'empty', 0, -MINUTE],
      [4, 'closed', 0, 2 * HOUR],
      [10, 'empty', 0, 10 * HOUR],
      [5, 'tier', 5, HOUR],
      [6, 'backoff', 0, -MINUTE],
    ]
    for (const [off, reason, slots, due] of rows)
      await db.prisma.$executeRawUnsafe(
        `INSERT INTO day_fetch_state (product_id, date, next_due_at, due_reason, slot_count, last_fetched_at) VALUES (1, $1::date, $2, $3, $4, $5)`,
        addDays(TODAY, off),
        new Date(NOW + due),
        reason,
        slots,
        new Date(NOW - 24 * HOUR),
      )
    const counts = await planCounts(db.prisma, NOW, 29.5)
    const [zone] = counts.zones
    expect(zone!.timeZone).toBe(TZ)
    // Only the day with slots is an open day; the re-checks and the failed empty day are not.
    expect(zone!.days.map((d) => [d.date, d.open])).toEqual([[addDays(TODAY, 5), 1]])
    const month = zone!.rechecks!.month!
    const horizon = zone!.rechecks!.horizon!
    // The empty day 3, due a minute ago: one re-check of days 8–30 from the first boundary.
    expect([month[0], month[SLICES]]).toEqual([1, 1])
    // The closed day 4 (two tiers slower) due in 2 h, the empty day 10 (one slower) in 10 h: days 31–59's.
    expect([horizon[23], horizon[24], horizon[119], horizon[120]]).toEqual([0, 1, 1, 2])
    expect(zone!.rechecks!.week).toBeUndefined()
    // The plan gives days 8–30 a request for the re-check though it has no open day of its own.
    expect(computePlan(counts).tiers.month.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 6)
  })
})
