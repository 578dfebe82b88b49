import { describe, expect, it } from 'vitest'
import { freshnessOf } from '../../server/availability/freshness.ts'
import { freshnessClass } from '../../server/sync/tiers.ts'

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

describe('freshnessClass (status, metrics, API and grid share it)', () => {
  const at = (ms: number) => NOW - ms
  it.each([
    [0, 15 * MIN, 'fresh'],
    [0, 15 * MIN + 1, 'due'],
    [0, 30 * MIN, 'due'],
    [0, 30 * MIN + 1, 'overdue'],
    [3, 4 * 60 * MIN + 1, 'due'],
    [3, 8 * 60 * MIN + 1, 'overdue'],
    [20, 47 * 60 * MIN, 'due'],
    [45, 100 * 60 * MIN, 'due'],
  ])('day +%i fetched %i ms ago is %s', (offset, age, cls) => expect(freshnessClass(at(age), offset, NOW)).toBe(cls))
  it('is never without a fetch, overdue outside every tier, fresh when stamped just ahead of this clock', () => {
    expect(freshnessClass(null, 0, NOW)).toBe('never')
    expect(freshnessClass(at(0), 60, NOW)).toBe('overdue')
    expect(freshnessClass(at(-5_000), 0, NOW)).toBe('fresh')
  })
  it('today stops aging when its last slot starts; other days do not', () => {
    const cutoff = NOW - 4 * 60 * MIN
    expect(freshnessClass(cutoff - 10 * MIN, 0, NOW, cutoff)).toBe('fresh')
    expect(freshnessClass(cutoff - 20 * MIN, 0, NOW, cutoff)).toBe('due')
    expect(freshnessClass(cutoff - 10 * MIN, 0, NOW)).toBe('overdue')
    // Before the cut-off it ages as any day.
    expect(freshnessClass(NOW - 20 * MIN, 0, NOW, NOW + 60 * MIN)).toBe('due')
    expect(freshnessClass(NOW - 5 * 60 * MIN, 1, NOW, cutoff)).toBe('due')
  })
  it('agrees with the API: fresh there exactly when fresh here', () => {
    for (const offset of [0, 1, 7, 8, 30, 31, 59])
      for (const age of [0, 10 * MIN, 16 * MIN, 5 * 60 * MIN, 25 * 60 * MIN, 80 * 60 * MIN])
        expect(freshnessOf(ago(age), offset, NOW).state === 'fresh').toBe(freshnessClass(at(age), offset, NOW) === 'fresh')
  })
})
