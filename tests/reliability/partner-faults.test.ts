import { afterEach, describe, expect, it } from 'vitest'
import { FAULT_KINDS } from '../../server/sandbox/faults.ts'
import { HOUR, MINUTE } from '../../server/sync/tiers.ts'
import { daysNotMatchingServed, drive, everyFault } from '../helpers/reliability.ts'
import { normalizeServed } from '../helpers/stored.ts'
import { createSyncWorld, type SyncWorld } from '../helpers/sync.ts'

let world: SyncWorld | undefined
afterEach(async () => {
  await world?.close()
  world = undefined
})

// Real milliseconds: the client gives up after TIMEOUT_MS; a hung request is
// held longer than that, a slow one well under it (a slow answer must still land).
const TIMEOUT_MS = 600
const FAULTS = everyFault(0.2, { slowMs: 40, hangMs: 900 })

describe('partner faults: 20 % of every kind over three simulated hours', () => {
  it('never half-writes a day, provokes no 429, and converges once the faults stop', async () => {
    world = await createSyncWorld({ products: [14, 15, 1000, 1001], sandbox: { products: 2, faults: FAULTS } })
    const w = world
    const sync = w.makeSync({ partner: { baseUrl: w.sandbox.url, apiKey: w.sandbox.apiKey, sandbox: true, timeoutMs: TIMEOUT_MS } })

    // Faulty phase. The invariant is checked every simulated half hour, not
    // only at the end, so a day that was briefly wrong cannot hide.
    let nextCheck = w.clock.now() + 30 * MINUTE
    let checks = 0
    const faulty = await drive(w.clock, [sync.engine], {
      until: w.clock.now() + 3 * HOUR,
      onStep: async (now) => {
        if (now < nextCheck) return
        nextCheck += 30 * MINUTE
        checks++
        const r = await daysNotMatchingServed(w.db.prisma, w.sandbox)
        expect(r.mismatches, `at ${new Date(now).toISOString()}`).toEqual([])
      },
    })
    expect(checks).toBeGreaterThanOrEqual(4)
    const during = w.sandbox.stats()
    // Every kind in the mix was really injected, and the failures reached the engine.
    const mixed = FAULT_KINDS.filter((k) => (FAULTS as Record<string, unknown>)[`${k}Rate`])
    expect(mixed.length).toBeGreaterThanOrEqual(8)
    for (const kind of mixed) expect(during.faults[kind], kind).toBeGreaterThan(0)
    expect(faulty.reports.reduce((n, r) => n + r.failed, 0)).toBeGreaterThan(20)
    const outcomes = await w.db.prisma.$queryRawUnsafe<{ last_outcome: string; n: number }[]>(
      `SELECT last_outcome::text, count(*)::int AS n FROM day_fetch_state WHERE last_outcome IS NOT NULL GROUP BY 1`,
    )
    const seen = new Set(outcomes.map((r) => r.last_outcome))
    for (const o of ['ok', 'empty']) expect(seen, o).toContain(o)
    const after = await daysNotMatchingServed(w.db.prisma, w.sandbox)
    expect(after.mismatches).toEqual([])
    expect(after.withSlots).toBeGreaterThan(20)

    // Faults stop: one "run now" of everything, drained, brings every day to
    // the partner's true answer (an injected empty answer is replaced too).
    w.sandbox.setFaults({})
    const cleanFrom = w.clock.now()
    const { queued } = await sync.control.run({})
    expect(queued).toBe(4 * 60)
    await drive(w.clock, [sync.engine], { until: cleanFrom + 2 * HOUR, untilIdle: true })
    expect((await sync.control.status()).queue).toBe(0)
    const rows = await w.db.prisma.$queryRawUnsafe<{ product_id: number; date: string; last_outcome: string }[]>(
      `SELECT product_id, date::text AS date, last_outcome::text FROM day_fetch_state WHERE date >= '2026-12-01' ORDER BY 1, 2`,
    )
    expect(rows).toHaveLength(4 * 60)
    for (const r of rows) {
      expect(['ok', 'empty'], `${r.product_id} ${r.date}`).toContain(r.last_outcome)
      const served = w.sandbox.lastServed(r.product_id, r.date)!
      expect(served.at, `${r.product_id} ${r.date} refetched after the faults`).toBeGreaterThanOrEqual(cleanFrom)
      const truth = w.sandbox.catalogue.inventory(r.product_id, r.date, served.at)
      expect(normalizeServed(served.body, r.date)).toEqual(normalizeServed(truth, r.date))
    }
    expect((await daysNotMatchingServed(w.db.prisma, w.sandbox)).mismatches).toEqual([])

    const stats = w.sandbox.stats()
    expect(stats.rateLimited).toBe(0) // the injected no-body 429s are counted under faults, not here
    expect(stats.maxInAnyWindow).toBeLessThanOrEqual(30)
    expect(w.log.lines.filter((l) => l.level === 'error')).toEqual([])
  }, 120_000)
})
