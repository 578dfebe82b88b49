import { afterEach, describe, expect, it } from 'vitest'
import { addDays, daysBetween, localDate, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { seededRandom } from '../../server/sandbox/rng.ts'
import { applyMigrations } from '../../server/db/migrate.ts'
import { maintainHorizon } from '../../server/sync/claims.ts'
import { cutoffAt, isDue, isPastCutoff } from '../../server/sync/due.ts'
import { readHorizonCounts } from '../../server/sync/horizon-counts.ts'
import { freshnessClass, TIERS, tierOf } from '../../server/sync/tiers.ts'
import type { TierCounts } from '../../server/sync/types.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'

/**
 * sync/status reads its horizon counts without visiting every row
 * (horizon-counts.ts). Here they must equal the plain definition, computed
 * in TypeScript over every row: tiers by `freshnessClass` (tiers.ts), the
 * queue by the planner's own rule (due.ts), on
 * random fetch states in four time zones, with paused products and one
 * product whose rows were written without maintainHorizon (no coverage).
 */
let db: TestDatabase | undefined
afterEach(async () => {
  await db?.drop()
  db = undefined
})

const MIGRATION = '20261130060000_status_without_scan'
const ZONES = ['Asia/Singapore', 'Europe/Amsterdam', 'America/New_York', 'Pacific/Auckland']
const NOW = zonedTimeToInstant('2026-12-01', '13:37', 'Asia/Singapore')
const H = 3_600_000

type Row = {
  product_id: number
  date: string
  time_zone: string
  paused: boolean
  next_due_at: Date
  forced_at: Date | null
  claimed_until: Date | null
  last_fetched_at: Date | null
  last_slot_start: string | null
  last_outcome: string | null
}

describe('status horizon counts', () => {
  it('equal a scan of every row judged by freshnessClass and the planner’s rule', async () => {
    db = await createTestDatabase()
    const rnd = seededRandom(11)
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!
    const ids = Array.from({ length: 40 }, (_, i) => i + 1)
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO product (id, time_zone, paused) SELECT * FROM unnest($1::int[], $2::text[], $3::bool[])`,
      ids,
      ids.map((i) => ZONES[i % ZONES.length]),
      ids.map((i) => i % 9 === 4),
    )
    await maintainHorizon(db.prisma, NOW)
    // Product 41: rows but no recorded coverage (written by hand, as an old database might hold).
    await db.prisma.$executeRawUnsafe(`INSERT INTO product (id, time_zone) VALUES (41, 'Asia/Singapore')`)
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO day_fetch_state (product_id, date, next_due_at) SELECT 41, d::date, $1 FROM generate_series($2::date, $2::date + 59, interval '1 day') d`,
      new Date(NOW - H),
      localDate(NOW, 'Asia/Singapore'),
    )
    // A past day and a day beyond the horizon: in no tier, never counted.
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO day_fetch_state (product_id, date, next_due_at) VALUES (1, $1::date, $3), (2, $2::date, $3)`,
      addDays(localDate(NOW, ZONES[1]!), -1),
      addDays(localDate(NOW, ZONES[2]!), 60),
      new Date(NOW - H),
    )
    const keys = await db.prisma.$queryRawUnsafe<{ product_id: number; date: string; time_zone: string }[]>(
      `SELECT f.product_id, f.date::text AS date, p.time_zone FROM day_fetch_state f JOIN product p ON p.id = f.product_id`,
    )
    // Ages spread over three targets of the day's tier, so every tier has fresh, due and overdue days.
    const targetOf = (k: (typeof keys)[number]) => tierOf(daysBetween(localDate(NOW, k.time_zone), k.date))?.targetMs ?? 90 * H
    const facts = keys.map(({ time_zone, ...k }) => ({
      ...k,
      next: new Date(NOW + Math.round((rnd() - 0.6) * 200 * H)),
      forced: rnd() < 0.08 ? new Date(NOW - 60_000) : null,
      claimed: rnd() < 0.05 ? new Date(NOW + (rnd() < 0.5 ? 1 : -1) * 60_000) : null,
      fetched: rnd() < 0.85 ? new Date(NOW - Math.round(rnd() * 3 * targetOf({ ...k, time_zone }))) : null,
      last: rnd() < 0.8 ? pick(['00:00', '09:30', '13:30', '13:37', '13:38', '18:00', '23:59']) : null,
      outcome: pick(['ok', 'ok', 'empty', 'error', null]),
    }))
    await db.prisma.$executeRawUnsafe(
      `UPDATE day_fetch_state f SET next_due_at = u.n, forced_at = u.fo, claimed_until = u.c, last_fetched_at = u.fe, last_slot_start = u.l,
              last_outcome = u.o::fetch_outcome
       FROM unnest($1::int[], $2::date[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[])
            AS u(p, d, n, fo, c, fe, l, o)
       WHERE f.product_id = u.p AND f.date = u.d`,
      facts.map((f) => f.product_id),
      facts.map((f) => f.date),
      facts.map((f) => f.next),
      facts.map((f) => f.forced),
      facts.map((f) => f.claimed),
      facts.map((f) => f.fetched),
      facts.map((f) => f.last),
      facts.map((f) => f.outcome),
    )
    const rows = await db.prisma.$queryRawUnsafe<Row[]>(
      `SELECT f.product_id, f.date::text AS date, p.time_zone, p.paused, f.next_due_at, f.forced_at, f.claimed_until, f.last_fetched_at,
              f.last_slot_start, f.last_outcome::text AS last_outcome
       FROM day_fetch_state f JOIN product p ON p.id = f.product_id`,
    )

    const tiers: Record<string, TierCounts> = {}
    for (const t of TIERS) tiers[t.name] = { total: 0, fresh: 0, due: 0, overdue: 0, oldestFetchedAt: null }
    const want = { queue: 0, queued: 0, inFlight: 0, never: 0, openToday: 0, oldest: null as string | null }
    for (const r of rows) {
      const offset = daysBetween(localDate(NOW, r.time_zone), r.date)
      const tier = tierOf(offset)
      if (r.paused || !tier) continue
      const c = {
        date: r.date,
        timeZone: r.time_zone,
        nextDueAt: r.next_due_at.getTime(),
        forcedAt: r.forced_at?.getTime() ?? null,
        lastSlotStart: r.last_slot_start,
        lastFetchedAt: r.last_fetched_at?.getTime() ?? null,
      }
      const due = isDue(c, offset, NOW)
      const fetched = r.last_fetched_at?.toISOString() ?? null
      want.queue += Number(due)
      want.queued += Number(r.forced_at !== null)
      want.inFlight += Number(r.claimed_until !== null && r.claimed_until.getTime() > NOW)
      want.never += Number(r.last_fetched_at === null)
      if (offset === 0 && r.last_outcome !== 'empty' && !isPastCutoff(c, offset, NOW)) want.openToday++
      if (fetched && (want.oldest === null || fetched < want.oldest)) want.oldest = fetched
      const t = tiers[tier.name]!
      if (fetched && (t.oldestFetchedAt === null || fetched < t.oldestFetchedAt)) t.oldestFetchedAt = fetched
      if (r.product_id === 41) continue // no recorded coverage: in the queue, not in the tiers
      t.total++
      const cls = freshnessClass(c.lastFetchedAt, offset, NOW, cutoffAt(r.date, r.last_slot_start, r.time_zone))
      t[cls === 'never' ? 'due' : cls]++
    }

    const got = await readHorizonCounts(db.prisma, new Date(NOW))
    expect(got.tiers).toEqual(tiers)
    expect({ ...got, tiers: undefined, oldest: got.oldest?.toISOString() ?? null }).toEqual({ ...want, tiers: undefined })
    // The random states reach every branch.
    expect(want.queue).toBeGreaterThan(300)
    expect(Math.min(want.queued, want.inFlight, want.never, want.openToday)).toBeGreaterThan(0)
    for (const t of TIERS) expect(Math.min(tiers[t.name]!.fresh, tiers[t.name]!.due, tiers[t.name]!.overdue)).toBeGreaterThan(0)
  })

  it('an upgraded database gets the coverage, and any missing rows, from the migration', async () => {
    db = await createTestDatabase()
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO product (id, time_zone, active) VALUES (1, 'Asia/Singapore', true), (2, 'America/New_York', true), (3, 'Asia/Singapore', false)`,
    )
    // The database's clock, as the migration uses it.
    const [clock] = await db.prisma.$queryRawUnsafe<{ now: Date }[]>('SELECT now() AS now')
    await maintainHorizon(db.prisma, clock!.now.getTime())
    const read = () =>
      db!.prisma.$queryRawUnsafe<unknown[]>(
        `SELECT p.id, p.horizon_from::text, p.horizon_to::text, count(f.date)::int AS days
         FROM product p LEFT JOIN day_fetch_state f ON f.product_id = p.id GROUP BY p.id ORDER BY p.id`,
      )
    const maintained = await read()
    expect(maintained).toHaveLength(3)
    // As before the migration: no coverage columns, and a day missing.
    await db.prisma.$executeRawUnsafe(
      `DELETE FROM day_fetch_state WHERE product_id = 2 AND date = (SELECT max(date) FROM day_fetch_state WHERE product_id = 2)`,
    )
    await db.prisma.$executeRawUnsafe(`
      DROP INDEX day_fetch_state_forced_at_idx, day_fetch_state_claimed_until_idx, day_fetch_state_never_fetched_idx,
                 day_fetch_state_failing_idx, day_fetch_state_date_last_fetched_at_idx;
      ALTER TABLE product DROP COLUMN horizon_from, DROP COLUMN horizon_to;
      DELETE FROM "_prisma_migrations" WHERE migration_name = '${MIGRATION}';`)
    expect((await applyMigrations(db.url)).applied).toEqual([MIGRATION])
    expect(await read()).toEqual(maintained)
  })
})
