import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../server/config.ts'
import { createDatabaseMonitor } from '../../server/db/db-monitor.ts'
import { createHealthService, type DatabaseProbe, type ProbeResult } from '../../server/db/health.ts'
import { type Availability, liveness, observe, RECOVERY_GIVE_UP_MS, restartDelayMs } from '../../server/db/health-state.ts'
import { enginePoolSize } from '../../server/db/pools.ts'

const up: Availability = { available: true, since: 0 }

describe('availability transitions', () => {
  it('changes only when the answer changes, keeping when the outage began', () => {
    const a = observe(up, { ok: false, reason: 'refused' }, 1_000)
    expect(a).toEqual({ next: { available: false, since: 1_000, reason: 'refused' }, change: 'unavailable' })
    // Still down, another reason: no new record, the start of the outage is kept.
    const b = observe(a.next, { ok: false, reason: 'timed out' }, 5_000)
    expect(b).toEqual({ next: a.next })
    const c = observe(b.next, { ok: true }, 9_000)
    expect(c).toEqual({ next: { available: true, since: 9_000 }, change: 'available again' })
    expect(observe(c.next, { ok: true }, 10_000)).toEqual({ next: c.next })
  })
})

describe('liveness', () => {
  const down: Availability = { available: false, since: 0, reason: 'refused' }
  it('stays live while an embedded database may still recover, and not after the give-up time', () => {
    expect(liveness(down, RECOVERY_GIVE_UP_MS - 1, { selfHealing: true })).toEqual({ ok: true })
    const dead = liveness(down, RECOVERY_GIVE_UP_MS, { selfHealing: true })
    expect(dead.ok).toBe(false)
    expect(dead.reason).toMatch(/embedded database has been unavailable for 300 s \(refused\)/)
  })
  it('never gives up on a database the service does not run (a restart would not help)', () => {
    expect(liveness(down, 10 * RECOVERY_GIVE_UP_MS, { selfHealing: false })).toEqual({ ok: true })
    expect(liveness(up, 10 * RECOVERY_GIVE_UP_MS, { selfHealing: true })).toEqual({ ok: true })
  })
})

describe('restart backoff', () => {
  it('doubles from 1 s and stops at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => restartDelayMs(n))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000])
  })
})

describe('the engine pool', () => {
  it('has a connection per request in flight and two more, within a cap', () => {
    expect(enginePoolSize(loadConfig({}).sync.maxInFlight)).toBe(10)
    expect(enginePoolSize(1)).toBe(3)
    expect(enginePoolSize(1_000)).toBe(32)
  })
  it('DATABASE_STATEMENT_TIMEOUT_MS defaults to 5 s and refuses nonsense naming the variable', () => {
    expect(loadConfig({}).databaseStatementTimeoutMs).toBe(5_000)
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '2500' }).databaseStatementTimeoutMs).toBe(2_500)
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '5s' })).toThrow(/DATABASE_STATEMENT_TIMEOUT_MS/)
  })
})

/** A probe whose answers the test hands out: `hang` leaves a check pending, as a stalled server does. */
function scriptedProbe() {
  const calls: { resolve(r: ProbeResult): void }[] = []
  const probe: DatabaseProbe = {
    check: () => new Promise<ProbeResult>((resolve) => calls.push({ resolve })),
    close: async () => {},
  }
  return { probe, calls }
}

describe('readiness within its deadline', () => {
  it('answers "not ready" at the deadline when the database hangs, and callers share the one probe', async () => {
    const { probe, calls } = scriptedProbe()
    const outcomes: unknown[] = []
    const health = createHealthService(probe, { timeoutMs: 50, onOutcome: (o) => outcomes.push(o) })
    const t0 = performance.now()
    const [a, b] = await Promise.all([health.ready(), health.ready()])
    expect(performance.now() - t0).toBeLessThan(1_000)
    expect(calls).toHaveLength(1)
    expect(a).toEqual({ ready: false, database: false, migrations: false, reason: 'the database did not answer within 0.05 s' })
    expect(b).toEqual(a)
    expect(outcomes).toEqual([{ ok: false, reason: a.reason }])
    // The next call probes afresh, and a reachable, migrated database is ready.
    const next = health.ready()
    calls[1]!.resolve({ reachable: true, migrated: true })
    expect(await next).toEqual({ ready: true, database: true, migrations: true })
  })
})

describe('the database monitor', () => {
  function monitorWith(selfHealing: boolean) {
    let t = 0
    const records: { level: string; msg: string; o: unknown }[] = []
    const logger = {
      info: (o: unknown, msg: string) => records.push({ level: 'info', msg, o }),
      warn: (o: unknown, msg: string) => records.push({ level: 'warn', msg, o }),
      error: (o: unknown, msg: string) => records.push({ level: 'error', msg, o }),
    }
    const m = createDatabaseMonitor({ probe: async () => {}, logger, selfHealing, giveUpMs: 60_000, now: () => t })
    return { m, records, at: (ms: number) => (t = ms) }
  }

  it('logs one record when an outage starts and one when it ends, however many failures in between', () => {
    const { m, records, at } = monitorWith(true)
    for (let i = 0; i < 50; i++) {
      at(1_000 + i * 100)
      m.observe({ ok: false, reason: 'refused' })
    }
    expect(m.available()).toBe(false)
    expect(m.live()).toEqual({ ok: true })
    at(9_000)
    m.observe({ ok: true })
    m.observe({ ok: true })
    expect(records.map((r) => [r.level, r.msg])).toEqual([
      ['warn', 'database unavailable'],
      ['info', 'database available again'],
    ])
    expect(records[1]!.o).toEqual({ downMs: 8_000 })
    expect(m.available()).toBe(true)
  })

  it('turns liveness off only after the give-up time for the database it runs itself', () => {
    const own = monitorWith(true)
    own.m.observe({ ok: false, reason: 'refused' })
    own.at(59_999)
    expect(own.m.live().ok).toBe(true)
    own.at(60_000)
    expect(own.m.live().ok).toBe(false)
    own.m.observe({ ok: true })
    expect(own.m.live().ok).toBe(true)

    const external = monitorWith(false)
    external.m.observe({ ok: false, reason: 'refused' })
    external.at(600_000)
    expect(external.m.live().ok).toBe(true)
  })
})

describe('GET /health and /ready', () => {
  it('answer 503 with the reason when not live or not ready, in the documented shape', async () => {
    const { default: Fastify } = await import('fastify')
    const { healthRoutes } = await import('../../server/api/rest.ts')
    let live = { ok: false, reason: 'the embedded database has been unavailable for 300 s (refused)' } as { ok: boolean; reason?: string }
    const health = {
      ready: async () => ({ ready: false, database: false, migrations: false, reason: 'the database did not answer within 1.5 s' }),
      live: () => live,
    }
    const app = Fastify()
    // Only the health service is reached by these two routes.
    await app.register(healthRoutes, { context: () => ({ services: { health }, authorization: undefined, adminToken: 'x' }) as never })
    const h = await app.inject({ url: '/health' })
    expect([h.statusCode, h.json()]).toEqual([503, live])
    live = { ok: true }
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200)
    const r = await app.inject({ url: '/ready' })
    expect([r.statusCode, r.json().reason]).toEqual([503, 'the database did not answer within 1.5 s'])
    await app.close()
  })
})
