import { afterEach, describe, expect, it } from 'vitest'
import { systemClock, type Clock } from '../../server/clock.ts'
import { createDatabase, type Database } from '../../server/db/client.ts'
import { startSandbox, type Sandbox } from '../../server/sandbox/server.ts'
import { createSync, type SyncAssembly } from '../../server/sync/index.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { daysNotMatchingServed, uniqueViolations } from '../helpers/reliability.ts'
import { captureLogger, TZ } from '../helpers/sync.ts'

/**
 * The partner as it really is: answers take 0.3–4 s, it counts a request when
 * it arrives (any 60 s window, its own clock), and two instances whose clocks
 * disagree by 800 ms share its 30 requests a minute. Real time, production
 * settings: the default 1 s margin, 8 in flight, the database's clock for
 * the shared window. Nothing here shares a clock with the sandbox's limiter.
 */
const RUN_MS = 150_000
const LIMIT = 30

/** The system clock, off by `offsetMs`: what another host's clock reads. */
const skewed = (offsetMs: number): Clock => ({ now: () => systemClock.now() + offsetMs, sleep: systemClock.sleep })

let sandbox: Sandbox | undefined
let db: TestDatabase | undefined
let other: Database | undefined
const syncs: SyncAssembly[] = []
afterEach(async () => {
  for (const s of syncs.splice(0)) await s.engine.stop().catch(() => {})
  await sandbox?.close()
  await other?.close()
  await db?.drop()
  sandbox = db = other = undefined
})

describe('against a slow partner in real time, two instances with skewed clocks', () => {
  it('never exceeds 30 arrivals in any 60 s, provokes no 429, keeps the budget busy, and pause stops the next send', async () => {
    sandbox = await startSandbox({ products: 20, rateLimitPerMinute: LIMIT, latency: { minMs: 300, maxMs: 4_000 }, timeZone: TZ })
    db = await createTestDatabase()
    other = createDatabase(db.url)
    await db.prisma.$executeRawUnsafe(`INSERT INTO product (id, time_zone) SELECT unnest($1::int[]), $2`, sandbox.catalogue.productIds(), TZ)
    const logs = [captureLogger(), captureLogger()]
    const make = (instanceId: string, db: Database, clock: Clock, logger: ReturnType<typeof captureLogger>['logger']) =>
      createSync({
        db,
        clock,
        logger,
        instanceId,
        partner: { baseUrl: sandbox!.url, apiKey: sandbox!.apiKey, sandbox: true },
        limitPerMinute: LIMIT,
        timeZone: TZ,
      })
    const a = make('ahead', db, skewed(+400), logs[0]!.logger)
    const b = make('behind', other, skewed(-400), logs[1]!.logger)
    syncs.push(a, b)
    const t0 = Date.now()
    a.engine.start()
    b.engine.start()

    // Pause in the middle: after it answers, nothing more may be sent until resume.
    await new Promise((r) => setTimeout(r, 90_000))
    await a.control.pause()
    const atPause = sandbox.stats().requests
    await new Promise((r) => setTimeout(r, 6_000))
    const afterPause = sandbox.stats().requests
    await b.control.resume()
    await new Promise((r) => setTimeout(r, RUN_MS - (Date.now() - t0)))

    // stop() waits for what is in flight: afterwards nothing is held or pending.
    await Promise.all([a.engine.stop(), b.engine.stop()])
    const elapsed = Date.now() - t0
    expect(a.engine.inFlight + b.engine.inFlight).toBe(0)
    expect(sandbox.pendingAnswers()).toBe(0)
    const claimed = await db.prisma.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM day_fetch_state WHERE claimed_by IS NOT NULL')
    expect(claimed[0]!.n).toBe(0)

    const stats = sandbox.stats()
    expect(stats.rateLimited).toBe(0)
    expect(stats.byStatus['429']).toBeUndefined()
    expect(stats.maxArrivalsInAnyWindow).toBeLessThanOrEqual(LIMIT)
    expect(afterPause).toBe(atPause)

    // Budget use while work was due (1,320 never-fetched pairs; the 6 s pause excluded):
    // the window allows 30 per 61 s, paced 5 per 10 s from an empty start.
    const activeS = (elapsed - 6_000) / 1_000
    const ceiling = Math.ceil((activeS / 61) * LIMIT) + 5
    expect(stats.requests).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.85))
    const byInstance = await db.prisma.$queryRawUnsafe<{ instance_id: string; n: number }[]>(
      'SELECT instance_id, count(*)::int AS n FROM partner_request GROUP BY 1 ORDER BY 1',
    )
    expect(byInstance.map((r) => r.instance_id)).toEqual(['ahead', 'behind'])
    expect(byInstance.reduce((n, r) => n + r.n, 0)).toBe(stats.requests)

    // Every answer that came back was written whole, none twice, no key collided.
    expect(Object.values(stats.perProductDate).every((n) => n === 1)).toBe(true)
    const check = await daysNotMatchingServed(db.prisma, sandbox)
    expect(check.mismatches).toEqual([])
    expect(uniqueViolations([...logs[0]!.lines, ...logs[1]!.lines])).toEqual([])
    console.info(
      `real-partner: ${stats.requests} requests in ${(elapsed / 1000).toFixed(0)} s (ceiling ${ceiling}), max ${stats.maxArrivalsInAnyWindow} arrivals in any 60 s, ${stats.rateLimited} × 429`,
    )
  }, 200_000)
})
