import { describe, expect, it } from 'vitest'
import { freshnessOf } from '../../server/availability/freshness.ts'

const NOW = Date.parse('2026-12-01T02:00:00Z')
const MIN = 60_000
const ago = (ms: number) => new Date(NOW - ms)

describe('freshnessOf', () => {
  it('is never without a successful fetch', () => {
    expect(freshnessOf(null, 0, NOW)).toEqual({ fetchedAt: null, state: 'never' })
    expect(freshnessOf(undefined, 5, NOW)).toEqual({ fetchedAt: null, state: 'never' })
  })
  it.each([
    [0, 15 * MIN, 'fresh'],
    [0, 15 * MIN + 1, 'stale'],
    [1, 4 * 60 * MIN, 'fresh'],
    [7, 4 * 60 * MIN + 1, 'stale'],
    [8, 24 * 60 * MIN, 'fresh'],
    [30, 24 * 60 * MIN + 1, 'stale'],
    [31, 23 * 60 * MIN, 'fresh'],
    [59, 72 * 60 * MIN, 'fresh'],
    [59, 72 * 60 * MIN + 1, 'stale'],
  ])('day +%i fetched %i ms ago is %s (its tier target decides)', (offset, age, state) => {
    expect(freshnessOf(ago(age), offset, NOW)).toEqual({ fetchedAt: ago(age).toISOString(), state })
  })
  it('counts a fetch stamped just ahead of this clock as fresh', () => expect(freshnessOf(ago(-5_000), 0, NOW).state).toBe('fresh'))
  it('never calls a day outside the horizon fresh', () => {
    expect(freshnessOf(ago(0), 60, NOW).state).toBe('stale')
    expect(freshnessOf(ago(0), -1, NOW).state).toBe('stale')
  })
})
