import { describe, expect, it } from 'vitest'
import { END, firstScreen, formatFigures, rowsOfReport, START } from '../../bench/results-page.ts'
import type { DayRow } from '../../bench/sync-days.ts'
import type { SimReport, SimResult } from '../../bench/sync-report.ts'

const day = (date: string, week: number, bound: number): DayRow => ({
  date,
  todayWithinTarget: 1,
  weekWithinTarget: week,
  monthWithinTarget: 0.5,
  accuracySlots: 0.6,
  accuracyDates: 0.99,
  utilisationWhileDue: 0.98,
  requests: 8000,
  rateLimited: 0,
  bound: { today: 1, week: bound, month: 0.9, monthAfterWeek: 0.8 },
})

const report = {
  date: '2026-12-06T22:00:00.000Z',
  commit: 'abc1234',
  machine: '2 × CPU',
  note: 'pre-policy baseline',
  cores: 2,
  limit: 6,
  products: 90,
  latency: '300-4000',
  warmupHours: 12,
  catalogues: [
    {
      shape: 'zones',
      needs: { today: 1, week: 1, month: 1, horizon: 1 },
      available: 8640,
      usable: 8500,
      best: { today: 1, week: 1, month: 1, horizon: 1 },
      accuracyRef: { atTargets: { slots: 1, dates: 1 }, budgetSpread: { slots: 1, dates: 1 }, spread: 1 },
      results: [
        {
          strategy: 'smart',
          scenario: 'steady',
          hours: 48,
          todayWithinTarget: 1,
          weekWithinTarget: 0.8,
          monthWithinTarget: 0.5,
          days: [day('2026-12-01', 0.9, 0.95), day('2026-12-02', 0.7, 0.9)],
        } as SimResult,
      ],
    },
  ],
} satisfies SimReport & { note: string }

describe('results page: the first screen from the bench JSON', () => {
  it('a week run: the bound is the mean of its days, the worst day the one furthest under its own bound', () => {
    const [row] = rowsOfReport(report)
    expect(row!.run).toContain('90 × 6/min (scaled')
    expect(row!.run).toContain('2 days from 2026-12-01')
    expect(row!.bound.week).toBeCloseTo(0.925, 9)
    expect(row!.bound.month).toBeCloseTo(0.8, 9)
    expect(row!.worst!.dates.week).toBe('2026-12-02')
    expect(row!.worst!.smart.week).toBe(0.7)
    expect(row!.worst!.bound.week).toBe(0.9)
  })

  it('one line per tier with bound, measured, points under, commit, date and machine; the page sits between its markers', () => {
    const table = formatFigures(rowsOfReport(report))
    expect(table).toContain('| zones — pre-policy baseline | 90 × 6/min')
    expect(table).toContain('| days 1–7 (4 h) | 92.5 % | 80.0 % (worst day 2026-12-02: 70.0 % / 90.0 %) | 12.5 pt |')
    expect(table).toContain('| abc1234 | 2026-12-06 | 2 × CPU |')
    const page = firstScreen(rowsOfReport(report), undefined)
    expect(page.startsWith(START)).toBe(true)
    expect(page.endsWith(END)).toBe(true)
    expect(page.indexOf('## How to reproduce')).toBeGreaterThan(page.indexOf('| zones'))
  })
})
