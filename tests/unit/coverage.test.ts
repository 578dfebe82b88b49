import { describe, expect, it } from 'vitest'
import { addDays } from '../../server/calendar/days.ts'
import { coverageOf } from '../../server/availability/coverage.ts'

const h = { today: '2026-12-01', last: addDays('2026-12-01', 59) }
const at = (iso: string) => Date.parse(iso)
const entries = (xs: [string, string][]) => xs.map(([d, t]) => `${d}:${at(t)}`).join(',')

describe('coverageOf (the coverage fields of /dates)', () => {
  it('nothing fetched: every day of the horizon is pending, in order, and there is no oldest fetch', () => {
    const c = coverageOf('', h)
    expect(c.pending).toHaveLength(60)
    expect(c.pending[0]).toBe(h.today)
    expect(c.pending[59]).toBe(h.last)
    expect(c.oldestFetchedAt).toBeNull()
  })

  it('fetched days leave pending; the oldest counts only days of the horizon', () => {
    const fetched = entries([
      ['2026-11-30', '2026-11-01T00:00:00Z'], // yesterday in this zone: outside, however old
      ['2026-12-01', '2026-12-01T01:00:00.123Z'],
      ['2026-12-03', '2026-11-30T20:00:00Z'],
      [addDays(h.last, 1), '2026-10-01T00:00:00Z'], // beyond the horizon
    ])
    const c = coverageOf(fetched, h)
    expect(c.pending).not.toContain('2026-12-01')
    expect(c.pending).not.toContain('2026-12-03')
    expect(c.pending.slice(0, 2)).toEqual(['2026-12-02', '2026-12-04'])
    expect(c.pending).toHaveLength(58)
    expect(c.oldestFetchedAt).toBe('2026-11-30T20:00:00.000Z')
  })

  it('every day fetched: pending is empty', () => {
    const all = Array.from({ length: 62 }, (_, i): [string, string] => [addDays(h.today, i - 1), '2026-12-01T00:00:00Z'])
    expect(coverageOf(entries(all), h)).toEqual({ pending: [], oldestFetchedAt: '2026-12-01T00:00:00.000Z' })
  })
})
