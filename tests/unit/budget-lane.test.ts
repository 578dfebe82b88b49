import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { grantLane, keptForLive, LIVE_ACTIVE_MS, laneReservePerMinute, liveCap, type Lane } from '../../server/sync/lane.ts'
import { allowCheck, createClientAllowance } from '../../server/sync/live-limits.ts'

const W = 61_000
const LIMIT = 30
const SHARE = 0.2

/**
 * Drives grantLane as the budget does: at each tick, the live checks that
 * arrive there ask first, then scheduled work sends as long as it is granted
 * (always something due: an oversubscribed catalogue). Returns the send log.
 */
function run(o: { liveAt: readonly number[]; untilMs: number; tickMs: number; burstMs?: number; share?: number }) {
  const sent: { at: number; lane: Lane }[] = []
  const refusedLive: number[] = []
  const arrivals = [...o.liveAt].sort((a, b) => a - b)
  let i = 0
  for (let now = 0; now <= o.untilMs; now += o.tickMs) {
    const state = () => ({
      sent: sent.map((s) => s.at),
      live: sent.filter((s) => s.lane === 'live').map((s) => s.at),
      liveShare: o.share ?? SHARE,
      liveActive: sent.some((s) => s.lane === 'live' && s.at > now - LIVE_ACTIVE_MS),
      now,
      limit: LIMIT,
      windowMs: W,
      burstMs: o.burstMs ?? 10_000,
      haltedUntil: null,
    })
    for (; i < arrivals.length && arrivals[i]! <= now; i++) {
      if (grantLane(state(), 'live').granted) sent.push({ at: now, lane: 'live' })
      else refusedLive.push(now)
    }
    while (grantLane(state(), 'scheduled').granted) sent.push({ at: now, lane: 'scheduled' })
  }
  return { sent, refusedLive }
}

/** The most sends (of `lane`, or all) any window of W holds. */
function maxInAnyWindow(sent: readonly { at: number; lane: Lane }[], lane?: Lane): number {
  const ts = sent.filter((s) => !lane || s.lane === lane).map((s) => s.at)
  let best = 0
  for (let a = 0, b = 0; b < ts.length; b++) {
    while (ts[a]! <= ts[b]! - W) a++
    best = Math.max(best, b - a + 1)
  }
  return best
}

describe('the live lane (lane.ts)', () => {
  it('caps the lane at the share of the limit, rounded down', () => {
    expect(liveCap(30, 0.2)).toBe(6)
    expect(liveCap(30, 0)).toBe(0)
    expect(liveCap(7, 0.1)).toBe(0)
    expect(keptForLive(30, 0.2, 0, true)).toBe(1)
    expect(keptForLive(30, 0.2, 6, true)).toBe(0)
    expect(keptForLive(30, 0, 0, true)).toBe(0)
    // No live send lately: nothing kept.
    expect(keptForLive(30, 0.2, 0, false)).toBe(0)
  })

  it('never lets more than the limit into any window, nor more than the share of live sends, whatever the mix (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300_000 }), { maxLength: 120 }), fc.constantFrom(250, 1_000, 3_000), (liveAt, tickMs) => {
        const { sent } = run({ liveAt, untilMs: 300_000, tickMs })
        expect(maxInAnyWindow(sent)).toBeLessThanOrEqual(LIMIT)
        expect(maxInAnyWindow(sent, 'live')).toBeLessThanOrEqual(liveCap(LIMIT, SHARE))
      }),
      { numRuns: 60 },
    )
  })

  it('spends what the lane leaves unused on scheduled work: while checks come, all places but the one kept for the next check', () => {
    // One check at the start, then every 4 min: the lane stays active (a live send within LIVE_ACTIVE_MS).
    const liveAt = Array.from({ length: 3 }, (_, k) => k * 240_000)
    const { sent } = run({ liveAt, untilMs: 600_000, tickMs: 500 })
    // A window after the first with no live send in it holds limit − 1 scheduled sends.
    const quiet = sent.filter((s) => s.at >= 300_000 && s.at < 300_000 + W)
    expect(quiet.every((s) => s.lane === 'scheduled')).toBe(true)
    expect(quiet.length).toBe(LIMIT - 1)
  })

  it('keeps nothing back while no check comes: the whole limit is scheduled work', () => {
    const { sent } = run({ liveAt: [], untilMs: 300_000, tickMs: 500 })
    expect(maxInAnyWindow(sent.filter((s) => s.at >= W))).toBe(LIMIT)
    // And once the last check is LIVE_ACTIVE_MS old, the kept place goes back to scheduled work.
    const after = run({ liveAt: [0], untilMs: LIVE_ACTIVE_MS + 3 * W, tickMs: 500 }).sent.filter((s) => s.at > LIVE_ACTIVE_MS + W)
    expect(maxInAnyWindow(after)).toBe(LIMIT)
  })

  it('gives scheduled work the whole limit when there is no lane (share 0)', () => {
    const { sent } = run({ liveAt: [], untilMs: 300_000, tickMs: 500, share: 0 })
    expect(maxInAnyWindow(sent.filter((s) => s.at >= W))).toBe(LIMIT)
  })

  it('while checks come, sends a check the moment it arrives into a window scheduled work keeps full', () => {
    // A first check into an empty window (it goes out: there is a place), then one a minute, each arriving in a saturated steady state.
    const liveAt = [0, ...Array.from({ length: 8 }, (_, k) => 120_000 + k * 60_000 + 250)]
    const { sent, refusedLive } = run({ liveAt, untilMs: 700_000, tickMs: 250 })
    expect(refusedLive).toEqual([])
    for (const t of liveAt) expect(sent.some((s) => s.lane === 'live' && s.at === t)).toBe(true)
  })

  it('refuses a check once the lane is spent, and says when its oldest send leaves the window', () => {
    const live = [1_000, 2_000, 3_000, 4_000, 5_000, 6_000]
    const g = grantLane({ sent: live, live, liveActive: true, liveShare: SHARE, now: 10_000, limit: LIMIT, windowMs: W, haltedUntil: null }, 'live')
    expect(g).toMatchObject({ granted: 0, refusedBy: 'lane', nextAt: 1_000 + W })
    // Scheduled work then keeps nothing back: the lane's places are spent.
    const s = grantLane(
      { sent: live, live, liveActive: true, liveShare: SHARE, now: 10_000, limit: LIMIT, windowMs: W, haltedUntil: null, burstMs: W },
      'scheduled',
    )
    expect(s.granted).toBe(1)
  })

  it('refuses a check while a 429 halt lasts', () => {
    const g = grantLane({ sent: [], live: [], liveActive: false, liveShare: SHARE, now: 0, limit: LIMIT, windowMs: W, haltedUntil: 5_000 }, 'live')
    expect(g).toMatchObject({ granted: 0, refusedBy: 'window', nextAt: 5_000 })
  })

  it('reserves for the plan the expected checks and, while they come, the kept place, at most the share', () => {
    const o = { limit: LIMIT, share: SHARE, windowMs: 60_000, spanMs: 300_000 }
    // No check lately: nothing kept, nothing expected.
    expect(laneReservePerMinute({ ...o, recentLive: 0 })).toBe(0)
    // One check a minute over five minutes: one expected, one kept.
    expect(laneReservePerMinute({ ...o, recentLive: 5 })).toBe(2)
    expect(laneReservePerMinute({ ...o, recentLive: 500 })).toBe(6)
    expect(laneReservePerMinute({ ...o, share: 0, recentLive: 5 })).toBe(0)
  })
})

describe('the per-client allowance (live-limits.ts)', () => {
  it('allows perMinute checks a minute and says when the next is allowed', () => {
    expect(allowCheck([0, 10_000], 20_000, 3)).toEqual({ ok: true })
    expect(allowCheck([0, 10_000, 15_000], 20_000, 3)).toEqual({ ok: false, retryAfterS: 40 })
    expect(allowCheck([0, 10_000, 15_000], 60_000, 3)).toEqual({ ok: true })
  })
  it('counts each client on its own', () => {
    const a = createClientAllowance(2)
    expect(a.take('1.1.1.1', 0).ok).toBe(true)
    expect(a.take('1.1.1.1', 1).ok).toBe(true)
    expect(a.take('1.1.1.1', 2).ok).toBe(false)
    expect(a.take('2.2.2.2', 2).ok).toBe(true)
    expect(a.take('1.1.1.1', 60_001).ok).toBe(true)
  })
})
