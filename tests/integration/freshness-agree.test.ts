import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { manualClock } from '../../server/clock.ts'
import type { FreshnessGrid } from '../../server/api/sync-read-schemas.ts'
import { createSyncReads, GRID_DAYS } from '../../server/observability/sync-reads.ts'
import { maintainHorizon } from '../../server/sync/claims.ts'
import { readHorizonCounts, type HorizonCounts } from '../../server/sync/horizon-counts.ts'
import { TIERS } from '../../server/sync/tiers.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

/**
 * The dashboard's tier table (sync status) and its grid (the freshness read)
 * class days by one rule, on days where "due for the engine" and "fresh for
 * a reader" part: a day swept early (due now, fetched half an hour ago), a
 * day held back (not due, older than its target), a day never fetched, and
 * today after its last slot has started.
 */
const TZ = 'Asia/Singapore'
const NOW = zonedTimeToInstant('2026-12-01', '20:00', TZ)
const MIN = 60_000
const H = 60 * MIN
let db: TestDatabase
let counts: HorizonCounts
let grid: FreshnessGrid

beforeAll(async () => {
  db = await createTestDatabase()
  await db.prisma.$executeRawUnsafe(`INSERT INTO product (id, time_zone) VALUES (1, $1), (2, $1)`, TZ)
  await maintainHorizon(db.prisma, NOW)
  const set = (sql: string, ...args: unknown[]) => db.prisma.$executeRawUnsafe(`UPDATE day_fetch_state SET ${sql}`, ...args)
  // Everything fetched a minute ago and not due for an hour, open until 23:00 ...
  await set(`last_fetched_at = $1, next_due_at = $2, last_outcome = 'ok', last_slot_start = '23:00'`, new Date(NOW - MIN), new Date(NOW + H))
  const day = (off: number) => `date = '2026-12-01'::date + ${off}`
  // ... except: product 1's today held back 20 minutes (not due, past its 15-minute target),
  await set(`last_fetched_at = $1 WHERE product_id = 1 AND ${day(0)}`, new Date(NOW - 20 * MIN))
  // its day +2 swept early (due now, fetched 30 minutes ago: well within 4 hours),
  await set(`last_fetched_at = $1, next_due_at = $2 WHERE product_id = 1 AND ${day(2)}`, new Date(NOW - 30 * MIN), new Date(NOW - MIN))
  // its day +5 never fetched, its day +9 fetched 50 hours ago and deferred (more than twice 24 hours),
  await set(`last_fetched_at = NULL, next_due_at = $1 WHERE product_id = 1 AND ${day(5)}`, new Date(NOW - MIN))
  await set(`last_fetched_at = $1 WHERE product_id = 1 AND ${day(9)}`, new Date(NOW - 50 * H))
  // and product 2's today fetched at 17:50, ten minutes before its last slot at 18:00: it stopped aging then.
  await set(`last_fetched_at = $1, last_slot_start = '18:00' WHERE product_id = 2 AND ${day(0)}`, new Date(NOW - 130 * MIN))
  counts = await readHorizonCounts(db.prisma, new Date(NOW))
  grid = await createSyncReads({ prisma: db.prisma, clock: manualClock(NOW) }).freshness()
})
afterAll(async () => {
  await db?.drop()
})

describe('fresh means one thing in the tier table and the grid', () => {
  it('the table counts age against the tier target, not the engine’s queue', () => {
    expect(counts.tiers.today).toMatchObject({ total: 2, fresh: 1, due: 1, overdue: 0 })
    expect(counts.tiers.week).toMatchObject({ total: 14, fresh: 13, due: 1, overdue: 0 })
    expect(counts.tiers.month).toMatchObject({ total: 46, fresh: 45, due: 0, overdue: 1 })
    expect(counts.tiers.horizon).toMatchObject({ total: 58, fresh: 58, due: 0, overdue: 0 })
    // The engine's view is apart: the swept day and the never-fetched one are what it will fetch.
    expect(counts.queue).toBe(2)
  })

  it('the grid paints each day with the class the table counts it in', () => {
    const p1 = grid.products.find((p) => p.productId === 1)!
    expect(p1.state.slice(0, 10)).toEqual(['due', 'fresh', 'fresh', 'fresh', 'fresh', 'never', 'fresh', 'fresh', 'fresh', 'overdue'])
    expect(grid.products.find((p) => p.productId === 2)!.state[0]).toBe('fresh')
    for (const t of TIERS) {
      const shown = { fresh: 0, due: 0, overdue: 0 }
      for (const p of grid.products)
        for (let off = t.fromOffset; off <= Math.min(t.toOffset, GRID_DAYS - 1); off++) {
          const cls = p.state[off]!
          shown[cls === 'never' ? 'due' : cls]++
        }
      const table = counts.tiers[t.name]!
      // Days beyond the grid are all fresh here, so what is not fresh is all on the grid.
      expect({ due: shown.due, overdue: shown.overdue }, t.name).toEqual({ due: table.due, overdue: table.overdue })
      if (t.toOffset < GRID_DAYS) expect(shown.fresh, t.name).toBe(table.fresh)
    }
  })
})
