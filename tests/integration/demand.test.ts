import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { horizonAt } from '../../server/calendar/horizon.ts'
import { manualClock } from '../../server/clock.ts'
import { loadConfig } from '../../server/config.ts'
import { createServer } from '../../server/server.ts'
import { loadCandidates, maintainHorizon } from '../../server/sync/claims.ts'
import { createReadCounter } from '../../server/sync/demand.ts'
import { createExplain } from '../../server/sync/explain.ts'
import { DEMAND_HALF_LIFE_MS } from '../../server/sync/policy/demand.ts'
import { HOUR } from '../../server/sync/tiers.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { seedCatalogue } from '../helpers/octo.ts'
import { captureLogStream } from '../helpers/reliability-server.ts'

const TZ = 'Asia/Singapore'
let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.drop()
})

async function stored(productId: number): Promise<Map<string, number>> {
  const rows = await db.prisma.$queryRaw<{ date: string; reads: number }[]>`
    SELECT date::text AS date, reads::float8 AS reads FROM day_demand WHERE product_id = ${productId} ORDER BY date`
  return new Map(rows.map((r) => [r.date, r.reads]))
}

describe('read counting', () => {
  it('a read replica (SYNC_ENABLED=false) counts /slots (REST, tRPC) and OCTO availability reads, not /dates, and flushes them', async () => {
    const now = Date.now()
    const { today } = horizonAt(now, TZ)
    await db.prisma.product.create({ data: { id: 14, timeZone: TZ } })
    await seedCatalogue(db, 14, today, 5, now)
    const server = createServer(
      loadConfig({
        PORT: '0',
        DATABASE_URL: db.url,
        SYNC_ENABLED: 'false',
        SYNC_TIME_ZONE: TZ,
        OCTO_API_KEYS: 'octo-demand-key',
        ADMIN_TOKEN: 'demand-test-admin',
      }),
      { logStream: captureLogStream().stream },
    )
    const { url } = await server.start()
    const [d1, d2, d3] = [addDays(today, 1), addDays(today, 2), addDays(today, 3)]
    try {
      const ok = async (res: Promise<Response>) => expect((await res).status).toBe(200)
      for (let i = 0; i < 3; i++) await ok(fetch(`${url}/api/v1/experience/14/slots?date=${d1}`))
      await ok(fetch(`${url}/trpc/availability.slots?input=${encodeURIComponent(JSON.stringify({ json: { productId: 14, date: d2 } }))}`))
      await ok(fetch(`${url}/api/v1/experience/14/dates`))
      const octo = (body: object) =>
        fetch(`${url}/octo/availability`, {
          method: 'POST',
          headers: { authorization: 'Bearer octo-demand-key', 'content-type': 'application/json' },
          body: JSON.stringify({ productId: '14', optionId: 'DEFAULT', ...body }),
        })
      await ok(octo({ localDate: d3 }))
      // A range of 4 days counts one read spread over them.
      await ok(octo({ localDateStart: today, localDateEnd: d3 }))
      // Unanswered reads count nothing: an unknown product, a day past the horizon.
      expect((await fetch(`${url}/api/v1/experience/99/slots?date=${d1}`)).status).toBe(404)
      expect((await fetch(`${url}/api/v1/experience/14/slots?date=${addDays(today, 61)}`)).status).toBe(400)
      expect(await stored(14)).toEqual(new Map()) // nothing written per read
    } finally {
      await server.stop() // flushes what the last minute counted
    }
    const counts = await stored(14)
    expect([...counts.keys()]).toEqual([today, d1, d2, d3])
    expect(counts.get(today)).toBeCloseTo(0.25, 4)
    expect(counts.get(d1)).toBeCloseTo(3.25, 4)
    expect(counts.get(d2)).toBeCloseTo(1.25, 4)
    expect(counts.get(d3)).toBeCloseTo(1.25, 4)
    expect(await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM day_demand WHERE product_id = 99`).toEqual([{ n: 0 }])
  })

  it('two counters (two instances) flushing the same days at once add up; a day later the stored count has halved', async () => {
    const start = zonedTimeToInstant('2026-12-01', '10:00', TZ)
    await db.prisma.product.create({ data: { id: 21, timeZone: TZ } })
    await maintainHorizon(db.prisma, start)
    const clock = manualClock(start)
    const a = createReadCounter({ db: db.prisma, clock })
    const b = createReadCounter({ db: db.prisma, clock })
    for (let i = 0; i < 50; i++) {
      a.record(21, '2026-12-02')
      b.record(21, '2026-12-02')
      b.record(21, '2026-12-03', 0.5)
    }
    a.record(21, '2027-06-01') // outside the horizon: no fetch state, dropped
    expect(a.pending).toBe(2)
    expect(await Promise.all([a.flush(), b.flush()])).toEqual([2, 2])
    expect(a.pending).toBe(0)
    expect(await stored(21)).toEqual(
      new Map([
        ['2026-12-02', 100],
        ['2026-12-03', 25],
      ]),
    )
    clock.advance(DEMAND_HALF_LIFE_MS)
    a.record(21, '2026-12-03')
    await a.flush()
    expect(await stored(21)).toEqual(
      new Map([
        ['2026-12-02', 100],
        ['2026-12-03', 13.5],
      ]),
    )
    // flushIfDue follows the injected clock: nothing within the minute, a flush after it.
    a.record(21, '2026-12-02')
    await a.flushIfDue()
    expect(a.pending).toBe(1)
    clock.advance(60_000)
    await a.flushIfDue()
    expect(a.pending).toBe(0)
  })

  it('the candidate list carries each day’s demand and lists a tier’s stale days most read first; explain answers it', async () => {
    const now = zonedTimeToInstant('2026-12-01', '10:00', TZ)
    // A database of its own: the tier's order is across every product.
    const db = await createTestDatabase()
    try {
      await db.prisma.product.create({ data: { id: 31, timeZone: TZ } })
      await maintainHorizon(db.prisma, now)
      // Days 1–7 fetched 5 h ago: all stale (4 h), the farther the staler (day 7 the stalest).
      await db.prisma.$executeRaw`
      UPDATE day_fetch_state SET due_reason = 'tier', last_fetched_at = ${new Date(now - 5 * HOUR)},
        next_due_at = ${new Date(now - HOUR)}::timestamptz - (date - '2026-12-01'::date) * interval '1 minute'
      WHERE product_id = 31`
      // Day 2 fetched a minute ago: fresh, the most read.
      await db.prisma.$executeRaw`
        UPDATE day_fetch_state SET last_fetched_at = ${new Date(now - 60_000)}, next_due_at = ${new Date(now + 4 * HOUR - 60_000)}
        WHERE product_id = 31 AND date = '2026-12-03'`
      const counter = createReadCounter({ db: db.prisma, clock: manualClock(now) })
      for (let i = 0; i < 7; i++) counter.record(31, '2026-12-05')
      for (let i = 0; i < 20; i++) counter.record(31, '2026-12-03')
      await counter.flush()
      const candidates = await loadCandidates(db.prisma, now, { week: 1, month: 0, horizon: 0 })
      const week = candidates.filter((c) => c.productId === 31 && c.date >= '2026-12-02' && c.date <= '2026-12-08')
      // With room for one of days 1–7: the first in its order of turns (the stale day read, though five are staler),
      // and its most-read day (fresh: a candidate for spare requests).
      expect(week.map((c) => [c.date, c.demand]).sort()).toEqual([
        ['2026-12-03', 20],
        ['2026-12-05', 7],
      ])
      const all = await loadCandidates(db.prisma, now, { week: 64, month: 0, horizon: 0 })
      expect(all.filter((c) => c.date === '2026-12-04')[0]?.demand).toBe(0)

      const explain = createExplain({ prisma: db.prisma, clock: manualClock(now), perMinute: 29.5 })
      expect(await explain(31, '2026-12-05')).toMatchObject({ demand: 7, rank: 1 })
      expect(await explain(31, '2026-12-08')).toMatchObject({ demand: 0, rank: 2 })
    } finally {
      await db.drop()
    }
  })
})
