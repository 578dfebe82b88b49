import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { manySlotsDay } from '../../server/sandbox/faults.ts'
import { BACKOFF_AFTER_FAILURES, PROBE_EVERY_MS } from '../../server/sync/backoff.ts'
import type { SyncAssembly } from '../../server/sync/index.ts'
import { drive } from '../helpers/reliability.ts'
import { storedDay } from '../helpers/stored.ts'
import { createSyncWorld, type SyncWorld } from '../helpers/sync.ts'

/**
 * Issue 25, "the partner cannot hurt more than the day it answers": the
 * engine on a real database against the real sandbox over HTTP, each fault
 * injected by the sandbox. One world, stored once, then one fault per test.
 */
const MINUTE = 60_000
const MB = 1024 * 1024
let world: SyncWorld
let sync: SyncAssembly
/** Three open days of product 14, stored. */
let days: string[]

beforeAll(async () => {
  world = await createSyncWorld()
  sync = world.makeSync()
  await drive(world.clock, [sync.engine], { until: world.clock.now() + 3_600_000, untilIdle: true })
  const rows = await world.db.prisma.$queryRawUnsafe<{ date: string }[]>(
    `SELECT date::text AS date FROM day_fetch_state WHERE product_id = 14 AND slot_count > 0 AND date > '2026-12-03' ORDER BY date LIMIT 3`,
  )
  days = rows.map((r) => r.date)
  expect(days).toHaveLength(3)
})
afterAll(async () => world?.close())
beforeEach(() => {
  // A fresh budget window each test.
  world.clock.advance(61_000)
  world.sandbox.setFaults({})
  world.sandbox.resetStats()
})

async function fetchState(productId: number, date: string) {
  const rows = await world.db.prisma.$queryRawUnsafe<{ last_outcome: string; last_error: string | null }[]>(
    `SELECT last_outcome::text, last_error FROM day_fetch_state WHERE product_id = $1 AND date = $2::date`,
    productId,
    date,
  )
  return rows[0]!
}
const logged = (msg: string, from = 0) => world.log.lines.slice(from).filter((l) => l.msg === msg)

describe('a partner answer costs at most its day', () => {
  it('a 50 MB body is rejected, stores nothing for that day and raises RSS by less than 50 MB', async () => {
    const [d] = days
    const stored = await storedDay(world.db.prisma, 14, d!)
    world.sandbox.setFaults({ hugeBodyRate: 1, hugeBodyBytes: 50_000_000 })
    await sync.control.run({ productId: 14, from: d, to: d })
    const logFrom = world.log.lines.length
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 1)
    const pass = await sync.engine.runPass()
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().rss)
    expect(pass).toMatchObject({ claimed: 1, fetched: 0, failed: 1 })
    expect(world.sandbox.stats().faults.hugeBody).toBe(1)
    expect(peak - before, `RSS rose ${((peak - before) / MB).toFixed(1)} MB`).toBeLessThan(50 * MB)
    // Had it been read, the padded body is valid JSON for the same day: it would have been stored.
    expect(await storedDay(world.db.prisma, 14, d!)).toEqual(stored)
    expect(await fetchState(14, d!)).toEqual({ last_outcome: 'invalid', last_error: 'invalid_response: body over 5000000 bytes' })
    expect(logged('partner day rejected', logFrom).map((l) => l.obj)).toEqual([{ productId: 14, date: d, reason: 'body over 5000000 bytes' }])
  })

  it('a 20 000-slot day is rejected with a logged reason while the other days store', async () => {
    const [d1, d2, d3] = days
    const stored = await storedDay(world.db.prisma, 14, d2!)
    world.sandbox.setDay(14, d2!, manySlotsDay(d2!, 20_000))
    try {
      await sync.control.run({ productId: 14, from: d1, to: d3 })
      const logFrom = world.log.lines.length
      // Other days fall due as the clock moves; of the three asked for, one fails.
      const pass = await sync.engine.runPass()
      expect(pass.failed).toBe(1)
      expect(pass.fetched).toBe(pass.claimed - 1)
      expect(await storedDay(world.db.prisma, 14, d2!)).toEqual(stored)
      expect((await fetchState(14, d2!)).last_error).toBe('invalid_response: response breaks the contract: body: 20000 slots, over the limit of 2000')
      for (const d of [d1!, d3!]) {
        expect((await fetchState(14, d)).last_outcome).toBe('ok')
        expect(world.sandbox.lastServed(14, d)!.at).toBe(world.clock.now())
      }
      expect(logged('partner day rejected', logFrom).map((l) => l.obj)).toEqual([
        { productId: 14, date: d2, reason: 'response breaks the contract: body: 20000 slots, over the limit of 2000' },
      ])
    } finally {
      world.sandbox.setDay(14, d2!, undefined)
    }
  })
})

describe('a 429 with a reset ten years out', () => {
  it('halts at most PARTNER_MAX_HALT_S, and a global resume clears the halt', async () => {
    const now = world.clock.now()
    world.sandbox.setFaults({ rateLimitRate: 1, rateLimitReset: now + 10 * 365 * 86_400_000 })
    await sync.control.run({ productId: 15 })
    const first = await sync.engine.runPass()
    expect(first.failed).toBeGreaterThan(0)
    const halted = (await sync.control.status()).budget.haltedUntil
    expect(halted).not.toBeNull()
    expect(Date.parse(halted!)).toBeGreaterThan(now)
    expect(Date.parse(halted!)).toBeLessThanOrEqual(now + 300_000)
    const sent = world.sandbox.stats().requests
    expect(await sync.engine.runPass()).toMatchObject({ skipped: 'halted', nextBudgetAt: Date.parse(halted!) })
    expect(world.sandbox.stats().requests).toBe(sent)

    world.sandbox.setFaults({})
    const resumed = await sync.control.resume()
    expect(resumed).toMatchObject({ paused: false, haltedUntil: null })
    expect((await sync.control.status()).budget.haltedUntil).toBeNull()
    // Sending again at once, long before the halt would have ended.
    world.clock.advance(11_000)
    const after = await sync.engine.runPass()
    expect(after.skipped).toBeUndefined()
    expect(after.fetched).toBeGreaterThan(0)
  })

  it('a resume of one product leaves a halt in place', async () => {
    world.sandbox.setFaults({ rateLimitRate: 1, retryAfter: '99999999' })
    await sync.control.run({ productId: 15 })
    await sync.engine.runPass()
    const halted = (await sync.control.status()).budget.haltedUntil
    expect(Date.parse(halted!)).toBeLessThanOrEqual(world.clock.now() + 300_000)
    expect((await sync.control.resume(15)).haltedUntil).toBe(halted)
    expect((await sync.engine.runPass()).skipped).toBe('halted')
    await sync.control.resume()
  })
})

describe('a 5xx storm', () => {
  it('backs sending off to the probe rate, shows it in status, and returns to full speed after the storm', async () => {
    await sync.control.run({})
    world.sandbox.setFaults({ errorRate: 1 })
    const logFrom = world.log.lines.length
    const stormFrom = world.clock.now()
    const STORM_MS = 5 * MINUTE
    await drive(world.clock, [sync.engine], { until: stormFrom + STORM_MS })
    const storm = world.sandbox.stats()
    // Full speed would be 30 a minute (150); backing off: the run that trips it, then one probe per interval.
    const probes = STORM_MS / PROBE_EVERY_MS
    expect(storm.requests).toBeGreaterThanOrEqual(BACKOFF_AFTER_FAILURES + probes - 2)
    expect(storm.requests).toBeLessThanOrEqual(BACKOFF_AFTER_FAILURES + probes + 1)
    expect(storm.byStatus['200'] ?? 0).toBe(0)
    const status = await sync.control.status()
    expect(status.partner).toMatchObject({ state: 'backing-off' })
    expect(status.partner.consecutiveFailures).toBe(storm.requests)
    expect(Date.parse(status.partner.nextProbeAt!)).toBeGreaterThan(world.clock.now() - 1)
    expect(Date.parse(status.partner.nextProbeAt!)).toBeLessThanOrEqual(world.clock.now() + PROBE_EVERY_MS)
    expect(logged('partner failing persistently: sending backs off to probes', logFrom)).toHaveLength(1)
    expect(world.log.lines.slice(logFrom).filter((l) => l.level === 'error')).toEqual([])

    // The storm ends: the next probe succeeds and the budget is used in full again.
    world.sandbox.setFaults({})
    world.sandbox.resetStats()
    const calmFrom = world.clock.now()
    await drive(world.clock, [sync.engine], { until: calmFrom + 2 * MINUTE + PROBE_EVERY_MS })
    const calm = world.sandbox.stats()
    expect(calm.byStatus['200']).toBe(calm.requests)
    expect(calm.requests).toBeGreaterThanOrEqual(55)
    expect(calm.maxInAnyWindow).toBeLessThanOrEqual(30)
    expect((await sync.control.status()).partner).toMatchObject({ state: 'ok', consecutiveFailures: 0, nextProbeAt: null })
    expect(logged('partner answers again: sending at full speed', logFrom)).toHaveLength(1)
    expect(logged('partner failing persistently: sending backs off to probes', logFrom)).toHaveLength(1)
  })
})
