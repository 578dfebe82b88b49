import { describe, expect, it } from 'vitest'
import { classify, formatHourly, hourlyTracker } from '../../bench/sync-hourly.ts'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import type { Catalogue } from '../../server/sandbox/catalogue.ts'

const TZ = 'Asia/Singapore'
const FROM = zonedTimeToInstant('2026-12-01', '00:00', TZ)
const H = 3_600_000

/** Products 1 and 3 are open every day, product 2 never; product 3 is in New York, the others in Singapore. */
const catalogue = {
  inventory: (id: number) => (id === 2 ? [] : [{}]),
  timeZone: (id: number) => (id === 3 ? 'America/New_York' : TZ),
} as unknown as Catalogue

describe('sync-hourly: where the budget goes, hour by hour', () => {
  it('classifies a request by the day it was for, day 1 and day 8 apart', () => {
    expect([0, 1, 2, 7, 8, 9, 30, 31].map((o) => classify(o, true))).toEqual(['today', 'day1', 'week', 'week', 'day8', 'month', 'month', 'horizon'])
    expect(classify(0, false)).toBe('todayClosed')
    expect(classify(3, false)).toBe('farClosed')
  })

  it('counts requests in the hour they were sent and sets freshness beside the bound', () => {
    const bound = [
      { t: FROM - H, total: { today: 0, week: 10, month: 0 }, fresh: { today: 0, week: 10, month: 0 } },
      { t: FROM, total: { today: 0, week: 10, month: 0 }, fresh: { today: 0, week: 4, month: 0 } },
    ]
    const t = hourlyTracker({ catalogue, timeZone: TZ, measureFrom: FROM, bound })
    t.requests(FROM - H, {})
    t.sample(FROM - H, { today_reads: 0, today_ok: 0, week_reads: 10, week_ok: 9 })
    // Sent in the hour before midnight (day 2 of product 1, a closed day 3 of product 2): counted for that hour.
    t.requests(FROM - 1, { '1/2026-12-02': 1, '2/2026-12-03': 2 })
    // The counters restart with the measured window.
    t.restart()
    t.requests(FROM, {})
    t.sample(FROM, { today_reads: 4, today_ok: 4, week_reads: 10, week_ok: 2 })
    // 00:30 in Singapore is 11:30 the day before in New York: product 3's 30 November is its today, 1 December its day 1.
    t.requests(FROM + H / 2, { '1/2026-12-01': 3, '3/2026-11-30': 2, '3/2026-12-01': 1 })
    const rows = t.rows()
    expect(rows.map((r) => [r.hour, r.clock, r.weekFresh, r.weekBound, r.todayFresh])).toEqual([
      [-1, '23:00', 0.9, 1, null],
      [0, '00:00', 0.2, 0.4, 1],
    ])
    expect(rows[0]!.requests).toMatchObject({ week: 1, farClosed: 2, today: 0 })
    expect(rows[1]!.requests).toMatchObject({ today: 5, day1: 1 })
    expect(formatHourly(rows).split('\n')).toHaveLength(4)
  })
})
