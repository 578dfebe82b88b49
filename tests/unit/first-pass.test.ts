import { describe, expect, it } from 'vitest'
import { createPaceTracker, estimateFirstPass, PACE_WINDOW_MS } from '../../server/api/first-pass.ts'
import type { SyncStatusView } from '../../server/api/services.ts'

// The default `npm start`: 52 sandbox products × 60 days, 30 requests a minute over a 61 s window.
const T0 = Date.parse('2026-12-01T02:00:00Z')
const MIN = 60_000
const tier = (total: number) => ({ total, fresh: 0, due: total, overdue: 0, oldestFetchedAt: null })
function status(neverFetched: number, o: Partial<SyncStatusView> = {}): SyncStatusView {
  return {
    paused: false,
    pausedProducts: [],
    running: true,
    queue: neverFetched,
    inFlight: 0,
    queued: 0,
    neverFetched,
    tiers: { today: tier(52), week: tier(52 * 7), month: tier(52 * 23), horizon: tier(52 * 29) },
    run: { queued: 0, etaAt: null },
    budget: { limitPerMinute: 30, usedLastMinute: 30, leftThisMinute: 0, usedToday: 300, leftToday: 43_000, haltedUntil: null },
    lastSuccessAt: null,
    lastError: null,
    oldestServedFetchedAt: null,
    products: { active: 52, paused: 0 },
    failingProducts: [],
    partner: { host: '127.0.0.1:4010', sandbox: true, state: 'ok', consecutiveFailures: 0, nextProbeAt: null },
    ...o,
  }
}
const estimate = (s: SyncStatusView, now: number, samples = [{ at: now, neverFetched: s.neverFetched }]) =>
  estimateFirstPass({ status: s, now, samples, budgetWindowMs: 61_000 })

describe('first pass estimate', () => {
  it('counts the horizon and what is left from the status; before a minute of readings, paces by the budget less today’s refreshes', () => {
    const fp = estimate(status(2_809), T0)
    expect(fp).toMatchObject({ pairs: 3_120, fetched: 311, neverFetched: 2_809, pace: 'budget' })
    // 30 per 61 s is 29.5 a minute; today's 52 days again every 15 minutes take 3.5 of it.
    expect(fp.perMinute).toBe(26)
    expect(Date.parse(fp.etaAt!) - T0).toBeCloseTo((2_809 / 26) * MIN, -1)
  })

  it('paces by the readings once they span a minute', () => {
    const fp = estimate(status(2_700), T0 + 4 * MIN, [
      { at: T0, neverFetched: 2_800 },
      { at: T0 + 4 * MIN, neverFetched: 2_700 },
    ])
    expect(fp).toMatchObject({ pace: 'observed', perMinute: 25 })
    expect(fp.etaAt).toBe(new Date(T0 + 4 * MIN + 108 * MIN).toISOString())
  })

  it('gives no time when done, paused, or not advancing', () => {
    expect(estimate(status(0), T0)).toMatchObject({ pairs: 3_120, fetched: 3_120, etaAt: null })
    expect(estimate(status(100, { paused: true }), T0).etaAt).toBeNull()
    // An instance without an engine (SYNC_ENABLED=false) still sees another instance's pass advance.
    const replica = estimate(status(100, { running: false }), T0 + 2 * MIN, [{ at: T0, neverFetched: 150 }])
    expect(replica).toMatchObject({ pace: 'observed', perMinute: 25 })
    expect(replica.etaAt).toBe(new Date(T0 + 6 * MIN).toISOString())
    const stuck = estimate(status(100), T0 + 2 * MIN, [{ at: T0, neverFetched: 100 }])
    expect(stuck).toMatchObject({ pace: 'observed', perMinute: 0, etaAt: null })
  })

  it('never reports more fetched than exist when rows run ahead of the coverage', () => {
    expect(estimate(status(5, { tiers: { today: tier(0) } }), T0)).toMatchObject({ pairs: 5, fetched: 0 })
  })
})

describe('pace tracker', () => {
  it('keeps one reading per 5 s over the last 10 minutes, the current one last', () => {
    const t = createPaceTracker()
    expect(t.observe(T0, 1000)).toEqual([{ at: T0, neverFetched: 1000 }])
    // Within 5 s: not kept, but answered as the current reading.
    expect(t.observe(T0 + 1000, 999)).toEqual([
      { at: T0, neverFetched: 1000 },
      { at: T0 + 1000, neverFetched: 999 },
    ])
    for (let s = 5; s <= 15 * 60; s += 5) t.observe(T0 + s * 1000, 1000 - s)
    const samples = t.observe(T0 + 15 * MIN + 1000, 99)
    expect(samples[0]!.at).toBeGreaterThanOrEqual(T0 + 15 * MIN + 1000 - PACE_WINDOW_MS)
    expect(samples.at(-1)).toEqual({ at: T0 + 15 * MIN + 1000, neverFetched: 99 })
    expect(samples.length).toBeLessThanOrEqual(PACE_WINDOW_MS / 5000 + 2)
  })

  it('starts over when pairs are added (a new day, a new product) or when reset (a pause)', () => {
    const t = createPaceTracker()
    t.observe(T0, 1000)
    t.observe(T0 + 10_000, 900)
    expect(t.observe(T0 + 20_000, 952)).toEqual([{ at: T0 + 20_000, neverFetched: 952 }])
    t.observe(T0 + 30_000, 940)
    t.reset()
    expect(t.observe(T0 + 40_000, 930)).toEqual([{ at: T0 + 40_000, neverFetched: 930 }])
  })
})
