import { describe, expect, it } from 'vitest'
import {
  addDays,
  dayRange,
  daysBetween,
  INSTANT_MEMO_MAX,
  instantMemoSize,
  isValidDate,
  localDate,
  localMinuteOfDay,
  startOfDay,
  weekday,
  zonedTimeToInstant,
} from '../../server/calendar/days.ts'
import { checkDateInHorizon, horizonAt } from '../../server/calendar/horizon.ts'
import { tierOf } from '../../server/sync/tiers.ts'

describe('calendar days', () => {
  it('validates real calendar days only', () => {
    expect(isValidDate('2026-12-01')).toBe(true)
    expect(isValidDate('2028-02-29')).toBe(true)
    expect(isValidDate('2026-02-29')).toBe(false)
    expect(isValidDate('2026-02-30')).toBe(false)
    expect(isValidDate('2026-13-01')).toBe(false)
    expect(isValidDate('2026-1-01')).toBe(false)
    expect(isValidDate('20261201')).toBe(false)
  })

  it('"today" is the product calendar day, not UTC and not the server', () => {
    // 2026-12-01T17:30Z is already 2 Dec 01:30 in Singapore, still 1 Dec in New York.
    const t = Date.UTC(2026, 11, 1, 17, 30)
    expect(localDate(t, 'Asia/Singapore')).toBe('2026-12-02')
    expect(localDate(t, 'UTC')).toBe('2026-12-01')
    expect(localDate(t, 'America/New_York')).toBe('2026-12-01')
    expect(localMinuteOfDay(t, 'Asia/Singapore')).toBe(90)
  })

  it('adds days across month, year and leap boundaries', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29')
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28')
    expect(daysBetween('2026-11-25', '2027-01-24')).toBe(60)
    expect(weekday('2026-12-01')).toBe(2) // a Tuesday
    expect(dayRange('2026-12-30', 3)).toEqual(['2026-12-30', '2026-12-31', '2027-01-01'])
  })

  it('neither skips nor doubles a day across DST changes', () => {
    for (const tz of ['Europe/Berlin', 'America/New_York', 'Australia/Sydney']) {
      // Every 20 minutes through both 2026 DST seasons: each run of days is gapless and single.
      for (const [from, to] of [
        [Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 10)],
        [Date.UTC(2026, 9, 1), Date.UTC(2026, 10, 10)],
      ] as const) {
        const seen: string[] = []
        for (let t = from; t < to; t += 1_200_000) {
          const d = localDate(t, tz)
          if (seen.at(-1) !== d) seen.push(d)
        }
        for (let i = 1; i < seen.length; i++) expect(daysBetween(seen[i - 1]!, seen[i]!)).toBe(1)
        expect(new Set(seen).size).toBe(seen.length)
        expect(seen.length).toBeGreaterThanOrEqual(40)
      }
    }
  })

  it('maps local wall times to instants, DST included', () => {
    expect(zonedTimeToInstant('2026-12-01', '04:00', 'Asia/Singapore')).toBe(Date.UTC(2026, 10, 30, 20, 0))
    // Berlin springs forward on 2026-03-29 at 02:00 → 03:00.
    expect(startOfDay('2026-03-29', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 28, 23, 0))
    expect(zonedTimeToInstant('2026-03-29', '04:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 2, 0))
    // 02:30 does not exist that night: the instant after the gap.
    expect(zonedTimeToInstant('2026-03-29', '02:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 1, 30))
    // Falls back on 2026-10-25 03:00 → 02:00: 02:30 happens twice, the first is taken.
    expect(zonedTimeToInstant('2026-10-25', '02:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 9, 25, 0, 30))
  })

  it('answers a remembered wall time as it computed it, and remembers a bounded number', () => {
    // Asked again (from the memo), the DST answers above do not change.
    expect(zonedTimeToInstant('2026-03-29', '02:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 1, 30))
    expect(zonedTimeToInstant('2026-10-25', '02:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 9, 25, 0, 30))
    // Past the bound in distinct keys, it never holds more than the bound.
    const zones = ['Asia/Singapore', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney']
    let peak = 0
    for (let i = 0; i < INSTANT_MEMO_MAX + 1_000; i++) {
      const tz = zones[i % zones.length]!
      expect(zonedTimeToInstant(addDays('2026-01-01', i), '12:00', tz)).toBeTypeOf('number')
      peak = Math.max(peak, instantMemoSize())
    }
    expect(peak).toBe(INSTANT_MEMO_MAX)
    // A bad input is refused, not remembered.
    const before = instantMemoSize()
    expect(() => zonedTimeToInstant('2026-1-01', '12:00', 'Asia/Singapore')).toThrow(RangeError)
    expect(instantMemoSize()).toBe(before)
  })
})

describe('horizon', () => {
  const now = Date.UTC(2026, 11, 1, 17, 30) // 2 Dec in Singapore
  const h = horizonAt(now, 'Asia/Singapore')

  it('covers today and the next 59 days in the product time zone', () => {
    expect(h).toEqual({ today: '2026-12-02', last: '2027-01-30' })
    expect(daysBetween(h.today, h.last)).toBe(59)
  })

  it('classifies dates', () => {
    expect(checkDateInHorizon('2026-12-02', h)).toEqual({ ok: true, offset: 0 })
    expect(checkDateInHorizon('2027-01-30', h)).toEqual({ ok: true, offset: 59 })
    expect(checkDateInHorizon('2027-01-31', h)).toEqual({ ok: false, reason: 'beyond' })
    expect(checkDateInHorizon('2026-12-01', h)).toEqual({ ok: false, reason: 'past' })
    expect(checkDateInHorizon('2026-02-30', h)).toEqual({ ok: false, reason: 'impossible' })
    expect(checkDateInHorizon('tomorrow', h)).toEqual({ ok: false, reason: 'malformed' })
  })

  it('assigns tiers by offset', () => {
    expect(tierOf(0)?.name).toBe('today')
    expect(tierOf(1)?.name).toBe('week')
    expect(tierOf(7)?.name).toBe('week')
    expect(tierOf(8)?.name).toBe('month')
    expect(tierOf(30)?.name).toBe('month')
    expect(tierOf(31)?.name).toBe('horizon')
    expect(tierOf(59)?.name).toBe('horizon')
    expect(tierOf(60)).toBeUndefined()
    expect(tierOf(-1)).toBeUndefined()
  })
})
