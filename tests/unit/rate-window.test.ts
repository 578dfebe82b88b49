import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nextSendAt } from '../../server/partner/rate-window.ts'

const MIN = 60_000

/** The most sends in any half-open window (t − w, t]: the maximum is reached at a window ending on a send. */
function maxInWindow(sends: number[], w = MIN): number {
  return Math.max(0, ...sends.map((end) => sends.filter((s) => s > end - w && s <= end).length))
}

describe('nextSendAt', () => {
  it('sends now while the window has room', () => {
    expect(nextSendAt([], 1_000, 3)).toBe(1_000)
    expect(nextSendAt([100, 200], 1_000, 3)).toBe(1_000)
  })

  it('waits until the oldest of the last `limit` sends leaves the window, not for the whole log', () => {
    expect(nextSendAt([0, 10_000, 20_000], 30_000, 3)).toBe(60_000)
    expect(nextSendAt([0, 10_000, 20_000, 50_000], 55_000, 3)).toBe(70_000)
  })

  it('ignores sends already out of the window and tolerates an unsorted log', () => {
    expect(nextSendAt([-70_000, -60_000, 5_000, 1_000], 1_000, 3)).toBe(1_000)
    expect(nextSendAt([20_000, 0, 10_000], 30_000, 3)).toBe(60_000)
  })

  it('treats the window as half-open: a send stops counting exactly windowMs later', () => {
    expect(nextSendAt([0], 59_999, 1)).toBe(60_000)
    expect(nextSendAt([0], 60_000, 1)).toBe(60_000)
    expect(nextSendAt([0], 5_000, 1, 1_000)).toBe(5_000)
  })

  it('rejects a limit below 1', () => {
    expect(() => nextSendAt([], 0, 0)).toThrow(RangeError)
  })

  it('property: sending at every answer never puts more than `limit` sends in any window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 40_000 }), { minLength: 1, maxLength: 60 }), (limit, gaps) => {
        const sends: number[] = []
        let now = 0
        for (const gap of gaps) {
          now += gap
          const at = nextSendAt(sends, now, limit)
          expect(at).toBeGreaterThanOrEqual(now)
          sends.push(at)
          now = at
        }
        expect(maxInWindow(sends)).toBeLessThanOrEqual(limit)
      }),
    )
  })

  it('property: a burst gets the full limit in the first window, not fewer (pacing is not over-cautious)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), (limit) => {
        const sends: number[] = []
        for (let i = 0; i < limit * 3; i++) sends.push(nextSendAt(sends, 0, limit))
        expect(sends.filter((s) => s === 0)).toHaveLength(limit)
        expect(sends.filter((s) => s === MIN)).toHaveLength(limit)
        expect(sends.filter((s) => s === 2 * MIN)).toHaveLength(limit)
      }),
    )
  })
})
