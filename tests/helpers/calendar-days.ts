import type { CalendarDayRow, RangeSlotRow } from '../../server/availability/queries.ts'
import { lowestUnitRows } from '../../server/octo/mapping.ts'

/**
 * Stored slots of a range as the calendar's day rows, by the TypeScript rule
 * (lowestUnitRows): what day_calendar must hold for the days that were fetched.
 */
export function calendarDaysOf(slots: readonly RangeSlotRow[], fetchedDays: readonly string[] = []): CalendarDayRow[] {
  const byDay = new Map<string, RangeSlotRow[]>(fetchedDays.map((d) => [d, []]))
  for (const s of slots) byDay.set(s.date, [...(byDay.get(s.date) ?? []), s])
  return [...byDay.keys()].sort().map((date) => {
    const day = byDay.get(date)!
    return [date, day.length, day.reduce((m, s) => Math.max(m, s.remaining), 0), lowestUnitRows(day)] as const
  })
}
