import { afterEach, describe, expect, it } from 'vitest'
import { claimNext } from '../../server/sync/claims.ts'
import { createSyncWorld, type SyncWorld } from '../helpers/sync.ts'
import { normalizeServed, storedDay } from '../helpers/stored.ts'

let world: SyncWorld | undefined
afterEach(async () => {
  await world?.close()
  world = undefined
})

const MINUTE = 60_000

// The budget spreads 30/min in 10 s steps (5 per step): step the clock by that.
const STEP = 10_001

async function drain(w: SyncWorld, engines: { runPass(): Promise<{ skipped?: string; claimed: number }> }[], maxPasses = 120) {
  for (let i = 0; i < maxPasses; i++) {
    const reports = await Promise.all(engines.map((e) => e.runPass()))
    if (reports.every((r) => r.skipped === 'idle')) return i
    w.clock.advance(STEP)
  }
  throw new Error('did not drain')
}

async function fetchStates(w: SyncWorld) {
  const rows = await w.db.prisma.$queryRawUnsafe<{ product_id: number; date: string; last_outcome: string | null; last_fetched_at: Date | null }[]>(
    'SELECT product_id, date::text AS date, last_outcome, last_fetched_at FROM day_fetch_state ORDER BY product_id, date',
  )
  return rows
}

describe('sync engine on a real database and sandbox', () => {
  it('a full sync writes exactly what the sandbox served, within the budget', async () => {
    world = await createSyncWorld()
    const { engine } = world.makeSync()
    await drain(world, [engine])
    const states = await fetchStates(world)
    expect(states).toHaveLength(120) // 2 products × 60 days
    expect(states.every((s) => s.last_outcome === 'ok' || s.last_outcome === 'empty')).toBe(true)
    let daysWithSlots = 0
    for (const s of states) {
      const served = world.sandbox.lastServed(s.product_id, s.date)
      expect(served, `${s.product_id} ${s.date} served`).toBeDefined()
      const expected = normalizeServed(served!.body, s.date)
      expect(await storedDay(world.db.prisma, s.product_id, s.date)).toEqual(expected)
      if (expected.length) daysWithSlots++
    }
    expect(daysWithSlots).toBeGreaterThan(20) // 14 opens 3 days a week, 15 on Sundays
    const stats = world.sandbox.stats()
    expect(stats.rateLimited).toBe(0)
    expect(stats.maxInAnyWindow).toBeLessThanOrEqual(30)
    expect(Object.values(stats.perProductDate).every((n) => n === 1)).toBe(true)
  })

  it('a re-fetch after slots and pax vanished leaves no leftovers', async () => {
    world = await createSyncWorld()
    const { engine, control } = world.makeSync()
    await drain(world, [engine])
    const rows = await world.db.prisma.$queryRawUnsafe<{ date: string }[]>(
      `SELECT date::text AS date FROM day_fetch_state WHERE product_id = 14 AND slot_count > 1 ORDER BY date LIMIT 1`,
    )
    const date = rows[0]!.date
    const body = world.sandbox.lastServed(14, date)!.body
    const kept = { ...body[1]!, paxAvailability: body[1]!.paxAvailability.slice(0, 1) }
    world.sandbox.setDay(14, date, [kept])
    await control.run({ productId: 14, from: date, to: date })
    const r = await engine.runPass()
    expect(r.claimed).toBe(1)
    expect(await storedDay(world.db.prisma, 14, date)).toEqual(normalizeServed([kept], date))
    const count = await world.db.prisma.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM pax_availability p JOIN slot s ON s.id = p.slot_id WHERE s.product_id = 14 AND s.date = $1::date`,
      date,
    )
    expect(count[0]!.n).toBe(1)
  })

  it('two engines on one database never fetch a pair twice and share one budget', async () => {
    world = await createSyncWorld()
    const a = world.makeSync({ instanceId: 'a', engine: { maxInFlight: 2 } })
    const b = world.makeSync({ instanceId: 'b', engine: { maxInFlight: 2 } })
    await drain(world, [a.engine, b.engine])
    const stats = world.sandbox.stats()
    expect(Object.keys(stats.perProductDate)).toHaveLength(120)
    expect(Object.values(stats.perProductDate).every((n) => n === 1)).toBe(true)
    expect(stats.maxInAnyWindow).toBeLessThanOrEqual(30)
    expect(stats.rateLimited).toBe(0)
    const byInstance = await world.db.prisma.$queryRawUnsafe<{ instance_id: string; n: number }[]>(
      'SELECT instance_id, count(*)::int AS n FROM partner_request GROUP BY 1 ORDER BY 1',
    )
    expect(byInstance.map((r) => r.instance_id)).toEqual(['a', 'b'])
    expect(byInstance.reduce((n, r) => n + r.n, 0)).toBe(120)
    expect(world.log.lines.filter((l) => /unique|duplicate key/i.test(JSON.stringify(l)))).toEqual([])
  })

  it("a 429 halts every instance until the partner's reset", async () => {
    // The partner allows fewer requests than slotsync was told: it will answer 429.
    world = await createSyncWorld({ sandbox: { rateLimitPerMinute: 3 } })
    const a = world.makeSync({ instanceId: 'a', engine: { maxInFlight: 1 } })
    const b = world.makeSync({ instanceId: 'b' })
    const first = await a.engine.runPass()
    expect(first.failed).toBeGreaterThan(0)
    const status = await a.control.status()
    expect(status.budget.haltedUntil).not.toBeNull()
    const reset = Date.parse(status.budget.haltedUntil!)
    const before = world.sandbox.stats().requests
    expect((await a.engine.runPass()).skipped).toBe('halted')
    expect((await b.engine.runPass()).skipped).toBe('halted')
    expect(world.sandbox.stats().requests).toBe(before)
    world.clock.set(reset + 1)
    const after = await b.engine.runPass()
    expect(after.skipped).toBeUndefined()
    expect(after.fetched).toBeGreaterThan(0)
  })

  it('spends budget nothing due needs on refreshing open days early, the most elapsed first, and two instances never both take one', async () => {
    world = await createSyncWorld()
    const { engine } = world.makeSync()
    await drain(world, [engine])
    const before = world.sandbox.stats().perProductDate
    // Nothing is due yet (today's day again after 14 min), but today's day has used over half of its interval.
    world.clock.advance(8 * MINUTE)
    const e1 = world.makeSync({ instanceId: 'e1', engine: { spendSpareBudget: true } })
    const e2 = world.makeSync({ instanceId: 'e2', engine: { spendSpareBudget: true } })
    const [r1, r2] = await Promise.all([e1.engine.runPass(), e2.engine.runPass()])
    expect([r1!.due, r2!.due]).toEqual([0, 0])
    expect(r1!.early + r2!.early).toBeGreaterThan(0)
    expect([r1!.early, r2!.early]).toEqual([r1!.claimed, r2!.claimed])
    const after = world.sandbox.stats().perProductDate
    const again = Object.keys(after).filter((k) => after[k]! > (before[k] ?? 0))
    expect(again).toHaveLength(r1!.early + r2!.early)
    expect(again.every((k) => after[k] === (before[k] ?? 0) + 1)).toBe(true)
    // Only today's open day has used half its interval (a week day needs 2 h of its 4): it alone is refreshed.
    expect(again).toEqual(['14/2026-12-01'])
    // Only days that had slots: an empty day rarely changes.
    const rows = await world.db.prisma.$queryRawUnsafe<{ k: string }[]>(
      `SELECT product_id || '/' || date::text AS k FROM day_fetch_state WHERE last_outcome = 'empty'`,
    )
    expect(again.filter((k) => rows.some((r) => r.k === k))).toEqual([])
    expect(world.sandbox.stats().rateLimited).toBe(0)
  })

  it('pause is stored in the database, survives a restart, and sends nothing while paused', async () => {
    world = await createSyncWorld()
    const first = world.makeSync({ instanceId: 'first' })
    expect((await first.control.pause()).paused).toBe(true)
    await first.engine.stop()
    const second = world.makeSync({ instanceId: 'second' })
    expect((await second.control.status()).paused).toBe(true)
    expect((await second.engine.runPass()).skipped).toBe('paused')
    expect(world.sandbox.stats().requests).toBe(0)
    await second.control.resume()
    expect((await second.engine.runPass()).fetched).toBeGreaterThan(0)
  })

  it('pausing one product skips only that product', async () => {
    world = await createSyncWorld()
    const { engine, control } = world.makeSync()
    const view = await control.pause(15)
    expect(view).toMatchObject({ paused: true, productId: 15, pausedProducts: [15] })
    await drain(world, [engine])
    const fetched = Object.keys(world.sandbox.stats().perProductDate)
    expect(fetched.length).toBe(60)
    expect(fetched.every((k) => k.startsWith('14/'))).toBe(true)
    // Regression: resuming one product answered 500 (updated_at set to NULL).
    expect(await control.resume(15)).toMatchObject({ paused: false, productId: 15, pausedProducts: [] })
    await drain(world, [engine])
    expect(Object.keys(world.sandbox.stats().perProductDate).filter((k) => k.startsWith('15/'))).toHaveLength(60)
  })

  it('a claim left by a crashed instance is taken over once it expires', async () => {
    world = await createSyncWorld()
    const { engine } = world.makeSync({ engine: { claimTtlMs: 2 * MINUTE } })
    await engine.runPass() // creates the horizon rows, fetches the first 5
    world.clock.advance(STEP)
    const rows = await world.db.prisma.$queryRawUnsafe<{ product_id: number; date: string; next_due_at: Date }[]>(
      `SELECT product_id, date::text AS date, next_due_at FROM day_fetch_state WHERE last_fetched_at IS NULL ORDER BY date LIMIT 5`,
    )
    // The crashed instance claimed them the way every instance does (claimNext, one pair per send), then died.
    const ranked = rows.map((r) => ({ productId: r.product_id, date: r.date, nextDueAt: r.next_due_at.getTime() }))
    const dead: string[] = []
    for (let i = 0; i < ranked.length; i++) {
      const { pair } = await claimNext(world.db.prisma, ranked.slice(i), 'crashed', world.clock.now(), 2 * MINUTE)
      dead.push(`${pair?.productId}/${pair?.date}`)
    }
    expect(dead).toEqual(ranked.map((r) => `${r.productId}/${r.date}`))
    const pass = await engine.runPass()
    expect(pass.claimed).toBe(5)
    const key = (r: { product_id: number; date: string }) => `${r.product_id}/${r.date}`
    for (const r of rows) expect(world.sandbox.stats().perProductDate[key(r)]).toBeUndefined()
    world.clock.advance(2 * MINUTE + 1)
    await drain(world, [engine])
    for (const r of rows) expect(world.sandbox.stats().perProductDate[key(r)]).toBe(1)
    expect(Object.keys(world.sandbox.stats().perProductDate)).toHaveLength(120)
  })

  it('"run now" queues pairs ahead of everything and status shows the queue draining', async () => {
    world = await createSyncWorld()
    const { engine, control } = world.makeSync()
    await drain(world, [engine])
    const idle = await control.status()
    expect(idle.queue).toBe(0)
    const { queued } = await control.run({ productId: 15 })
    expect(queued).toBe(60)
    expect((await control.status()).queue).toBe(60)
    await engine.runPass()
    expect((await control.status()).queue).toBe(55)
    await drain(world, [engine])
    const done = await control.status()
    expect(done.queue).toBe(0)
    expect(done.queued).toBe(0)
  })

  it('status names the products whose days fail, with their last success and last error', async () => {
    world = await createSyncWorld()
    const { engine, control } = world.makeSync()
    await drain(world, [engine])
    expect((await control.status()).failingProducts).toEqual([])
    const date = '2026-12-03'
    world.sandbox.setDay(14, date, [{ ...world.sandbox.lastServed(14, date)!.body[0]!, remaining: -5 }])
    await control.run({ productId: 14, from: date, to: date })
    expect((await engine.runPass()).failed).toBe(1)
    const [failing, ...rest] = (await control.status()).failingProducts
    expect(rest).toEqual([])
    expect(failing).toMatchObject({ productId: 14, failingDays: 1, lastError: expect.stringMatching(/remaining: must not be negative/) })
    expect(Date.parse(failing!.lastSuccessAt!)).toBeLessThan(Date.parse(failing!.lastErrorAt!))
  })

  it('"run now" with a range outside the horizon queues nothing and names the field', async () => {
    world = await createSyncWorld()
    const { control } = world.makeSync()
    await expect(control.run({ from: '2026-11-30' })).rejects.toMatchObject({ code: 'BAD_REQUEST', field: 'from' })
    await expect(control.run({ to: '2027-06-01' })).rejects.toMatchObject({ code: 'BAD_REQUEST', field: 'to' })
    await expect(control.run({ from: '2026-12-05', to: '2026-12-03' })).rejects.toMatchObject({ code: 'BAD_REQUEST', field: 'from' })
    await expect(control.run({ productId: 999 })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect((await control.status()).queued).toBe(0)
    expect(await control.run({ from: '2026-12-01', to: '2026-12-02' })).toEqual({ queued: 4 })
  })
})
