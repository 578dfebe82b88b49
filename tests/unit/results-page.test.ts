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

describe('results page: what shoppers see, when a run measured it', () => {
  const shopper = (week: number | null, bookable: number): NonNullable<SimResult['shopper']> => ({
    readsPerHour: 1200,
    reads: 100,
    weighted: {
      today: { reads: 10, within: 10, share: 1 },
      week: { reads: 10, within: 9, share: week },
      month: { reads: 0, within: 0, share: null },
      closed: { reads: 1, within: 1, share: 1 },
      outside: 3,
    },
    bookable: { reads: 100, accuracy: bookable, withPhantom: 1, withHidden: 0, withWrongPrice: 0, neverFetched: 0 },
  })
  const steady = { strategy: 'smart', scenario: 'steady', hours: 12, todayWithinTarget: 1, weekWithinTarget: 0.5, monthWithinTarget: 0.4, rateLimited: 0 }
  const withShoppers = {
    ...report,
    catalogues: [
      {
        ...report.catalogues[0]!,
        results: [
          { ...steady, shopper: shopper(0.9, 0.996) } as SimResult,
          {
            ...steady,
            scenario: 'live',
            weekWithinTarget: 0.49,
            rateLimited: 0,
            live: { perHour: 60, maxAgeS: 300, checks: 60, answered: 60, fresh: 0.995, p50Ms: 1200, p95Ms: 3800, maxMs: 4100, states: {} },
          } as SimResult,
        ],
      },
    ],
  }

  it('adds the read-weighted and live-check columns and the bookable and live lines, with their footnotes', () => {
    const [row] = rowsOfReport(withShoppers)
    expect(row!.weighted).toEqual({ today: 1, week: 0.9, month: undefined })
    expect(row!.bookable).toBe(0.996)
    expect(row!.live!.tiers.week).toBe(0.49)
    const table = formatFigures([row!])
    expect(table).toContain('| smart, read-weighted ⁴ | smart with live checks ⁵ | naive |')
    expect(table).toContain('| days 1–7 (4 h) | 100.0 % | 50.0 % | 50.0 pt | 90.0 % | 49.0 % | — |')
    expect(table).toContain('| days 8–30 (24 h) | 100.0 % | 40.0 % | 60.0 pt | — | 40.0 % | — |')
    expect(table).toContain('| | | bookable accuracy of reads (party of 2, price) ⁴ | | 99.6 % |')
    expect(table).toContain('| | | live checks, 60/h, max age 300 s ⁵ | | 99.5 % fresh, p50 1.2 s / p95 3.8 s, 0 × 429 |')
    // Every line has as many cells as the header.
    const cells = (l: string) => l.split('|').length
    for (const l of table.split('\n')) expect(cells(l)).toBe(cells(table.split('\n')[0]!))
    expect(firstScreen([row!], undefined)).toContain('⁴ Reads drawn from the demand model')
  })

  it('a run without shoppers keeps the table it had', () => {
    const table = formatFigures(rowsOfReport(report))
    expect(table.split('\n')[0]).toBe('| shape | run | tier | bound | smart | under the bound | naive | commit | date | machine |')
    expect(firstScreen(rowsOfReport(report), undefined)).not.toContain('⁴ Reads drawn')
  })
})
