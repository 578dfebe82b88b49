import { afterEach, describe, expect, it } from 'vitest'
import { addDays, localDate, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { seededRandom } from '../../server/sandbox/rng.ts'
import { loadCandidates } from '../../server/sync/claims.ts'
import { dueSql } from '../../server/sync/due.ts'
import { rankCandidates, type Candidate } from '../../server/sync/policy/rank.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { createSyncWorld, type SyncWorld } from '../helpers/sync.ts'

/**
 * "Due" lives in one module (due.ts), in TypeScript for the planner and as
 * generated SQL for the claim, candidate and status statements. Here both
 * judge the same 2,500 random pairs, in four time zones around today's
 * cut-off, the TypeScript form through the ranking that uses it
 * (policy/rank.ts: what it ranks and does not mark early is due).
 */
let db: TestDatabase | undefined
let world: SyncWorld | undefined
afterEach(async () => {
  await db?.drop()
  await world?.close()
  db = world = undefined
})

const ZONES = ['Asia/Singapore', 'Europe/Amsterdam', 'America/New_York', 'Pacific/Auckland']
const NOW = zonedTimeToInstant('2026-12-01', '13:37', 'Asia/Singapore')

describe('the due rule', () => {
  it('SQL (due.ts) and the ranking agree on every pair', async () => {
    db = await createTestDatabase()
    const rnd = seededRandom(7)
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!
    const products = Array.from({ length: 60 }, (_, i) => ({ id: i + 1, tz: ZONES[i % ZONES.length]!, paused: i % 13 === 5 }))
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO product (id, time_zone, paused) SELECT * FROM unnest($1::int[], $2::text[], $3::bool[])`,
      products.map((p) => p.id),
      products.map((p) => p.tz),
      products.map((p) => p.paused),
    )
    const rows = new Map<
      string,
      {
        productId: number
        date: string
        tz: string
        paused: boolean
        nextDueAt: number
        forcedAt: number | null
        lastSlotStart: string | null
        lastFetchedAt: number | null
      }
    >()
    while (rows.size < 2_500) {
      const p = pick(products)
      const today = localDate(NOW, p.tz)
      const date = addDays(today, Math.floor(rnd() * 64) - 2)
      rows.set(`${p.id}/${date}`, {
        productId: p.id,
        date,
        tz: p.tz,
        paused: p.paused,
        nextDueAt: NOW + Math.round((rnd() - 0.5) * 4 * 3_600_000),
        forcedAt: rnd() < 0.1 ? NOW - 60_000 : null,
        lastSlotStart: rnd() < 0.8 ? pick(['00:00', '09:30', '13:30', '13:37', '13:38', '18:00', '23:59']) : null,
        lastFetchedAt: rnd() < 0.85 ? NOW - Math.round(rnd() * 86_400_000) : null,
      })
    }
    const all = [...rows.values()]
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO day_fetch_state (product_id, date, next_due_at, forced_at, last_slot_start, last_fetched_at)
       SELECT * FROM unnest($1::int[], $2::date[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::timestamptz[])`,
      all.map((r) => r.productId),
      all.map((r) => r.date),
      all.map((r) => new Date(r.nextDueAt)),
      all.map((r) => (r.forcedAt === null ? null : new Date(r.forcedAt))),
      all.map((r) => r.lastSlotStart),
      all.map((r) => (r.lastFetchedAt === null ? null : new Date(r.lastFetchedAt))),
    )
    const dueRows = await db.prisma.$queryRawUnsafe<{ k: string }[]>(
      `SELECT f.product_id || '/' || f.date::text AS k FROM day_fetch_state f JOIN product p ON p.id = f.product_id WHERE ${dueSql('$1::timestamptz')}`,
      new Date(NOW),
    )
    const candidates: Candidate[] = all
      .filter((r) => !r.paused)
      .map((r) => ({
        productId: r.productId,
        date: r.date,
        timeZone: r.tz,
        nextDueAt: r.nextDueAt,
        reason: 'tier' as const,
        forcedAt: r.forcedAt,
        lastSlotStart: r.lastSlotStart,
        lastFetchedAt: r.lastFetchedAt,
      }))
    const ranked = rankCandidates(candidates, undefined, NOW, (tz) => localDate(NOW, tz))
      .filter((c) => !c.early)
      .map((c) => `${c.productId}/${c.date}`)
    const sql = dueRows.map((r) => r.k).sort()
    expect(sql.length).toBeGreaterThan(500)
    expect(sql).toEqual([...ranked].sort())
    // The candidates the engine ranks hold the same due set (and, for planned tiers, pairs not yet due).
    const all3 = { week: 100_000, month: 100_000, horizon: 100_000 }
    const loaded = (await loadCandidates(db.prisma, NOW, all3))
      .filter((c) => c.forcedAt !== null || c.nextDueAt <= NOW)
      .map((c) => `${c.productId}/${c.date}`)
      .sort()
    expect(loaded).toEqual(sql)
  })

  it("status' queue is what the engine will fetch: it reaches 0 after a run, today's finished days included", async () => {
    // 20:00 in Singapore: today's slots of 14 (04:00–08:00) and 15 (00:00) have all started.
    world = await createSyncWorld({ start: zonedTimeToInstant('2026-12-01', '20:00', 'Asia/Singapore') })
    const { engine, control } = world.makeSync()
    const drain = async () => {
      for (let i = 0; i < 200; i++) {
        if ((await engine.runPass()).skipped === 'idle') return
        world!.clock.advance(10_001)
      }
      throw new Error('did not drain')
    }
    await drain()
    expect((await control.status()).queue).toBe(0)
    const { queued } = await control.run({})
    expect(queued).toBe(120)
    const during = await control.status()
    expect(during.queue).toBe(120)
    expect(during.run.queued).toBe(120)
    expect(Date.parse(during.run.etaAt!)).toBeGreaterThan(world.clock.now())
    await drain()
    const after = await control.status()
    expect([after.queue, after.queued, after.run.etaAt]).toEqual([0, 0, null])
    // Today was fetched by the run although past its cut-off, and is not due again today.
    expect(world.sandbox.stats().perProductDate[`14/2026-12-01`]).toBe(2)
    // Two full drains of 120 pairs on a real database: ~15 s alone, more beside other work.
  }, 60_000)
})
