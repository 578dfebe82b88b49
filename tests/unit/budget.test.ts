import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { grantFromWindow } from '../../server/sync/budget.ts'

const W = 60_000
const base = { limit: 30, windowMs: W, haltedUntil: null }

describe('grantFromWindow (sliding-window log)', () => {
  it('grants up to the limit from an empty window', () => {
    expect(grantFromWindow({ ...base, sent: [], now: 0 }, 10)).toEqual({ granted: 10, nextAt: 0, usedInWindow: 10 })
    expect(grantFromWindow({ ...base, sent: [], now: 0 }, 50).granted).toBe(30)
  })
  it('grants nothing while the window is full, and says when a place frees', () => {
    const sent = Array.from({ length: 30 }, (_, i) => 1_000 + i * 100)
    const g = grantFromWindow({ ...base, sent, now: 10_000 }, 5)
    expect(g.granted).toBe(0)
    expect(g.nextAt).toBe(1_000 + W)
  })
  it('ignores sends that left the window', () => {
    const sent = Array.from({ length: 30 }, () => 0)
    expect(grantFromWindow({ ...base, sent, now: W }, 3).granted).toBe(3)
    expect(grantFromWindow({ ...base, sent, now: W - 1 }, 3).granted).toBe(0)
  })
  it('honours a 429 halt whatever the window says', () => {
    expect(grantFromWindow({ ...base, sent: [], now: 0, haltedUntil: 5_000 }, 1)).toEqual({ granted: 0, nextAt: 5_000, usedInWindow: 0 })
    expect(grantFromWindow({ ...base, sent: [], now: 5_000, haltedUntil: 5_000 }, 1).granted).toBe(1)
  })
  it('never lets more than the limit into ANY rolling window (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 40 }),
        (steps, limit) => {
          const sent: number[] = []
          let now = 0
          for (const [i, [dt, want]] of steps.entries()) {
            now += dt
            const g = grantFromWindow({ sent, now, limit, windowMs: W, haltedUntil: null, burstMs: i % 2 ? 10_000 : undefined }, want)
            for (let i = 0; i < g.granted; i++) sent.push(now)
          }
          // Every window [t - W, t] ending at a send holds at most `limit` sends.
          for (let i = 0; i < sent.length; i++) {
            const inWin = sent.filter((t) => t > sent[i]! - W && t <= sent[i]!).length
            if (inWin > limit) return false
          }
          return true
        },
      ),
      { numRuns: 300 },
    )
  })
  it('spreads the limit over the minute when asked (burstMs)', () => {
    const spread = { ...base, burstMs: 10_000 }
    expect(grantFromWindow({ ...spread, sent: [], now: 0 }, 30)).toEqual({ granted: 5, nextAt: 10_000, usedInWindow: 5 })
    const five = [0, 0, 0, 0, 0]
    expect(grantFromWindow({ ...spread, sent: five, now: 9_999 }, 30).granted).toBe(0)
    expect(grantFromWindow({ ...spread, sent: five, now: 10_000 }, 30).granted).toBe(5)
    // The minute's limit still holds: 30 sent over the last 50 s leave nothing.
    const thirty = Array.from({ length: 30 }, (_, i) => 10_000 + Math.floor(i / 5) * 10_000)
    expect(grantFromWindow({ ...spread, sent: thirty, now: 65_000 }, 30).granted).toBe(0)
  })
  it('a full-then-refill bucket would burst 2× across a window edge; this does not', () => {
    // 30 at t=59 s, then at t=61 s: a token bucket would allow another 30 (60 within 2 s).
    const sent = Array.from({ length: 30 }, () => 59_000)
    expect(grantFromWindow({ ...base, sent, now: 61_000 }, 30).granted).toBe(0)
    expect(grantFromWindow({ ...base, sent, now: 119_001 }, 30).granted).toBe(30)
  })
})
