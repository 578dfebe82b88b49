import { addDays, daysBetween, isValidDate, localDate, type IsoDate } from './days.ts'

/** `/dates` and sync cover today and the next 59 days: 60 days in all. */
export const HORIZON_DAYS = 60

export interface Horizon {
  today: IsoDate
  last: IsoDate
}

export function horizonAt(instant: number, timeZone: string, days = HORIZON_DAYS): Horizon {
  const today = localDate(instant, timeZone)
  return { today, last: addDays(today, days - 1) }
}

export type DateCheck = { ok: true; offset: number } | { ok: false; reason: 'malformed' | 'impossible' | 'past' | 'beyond' }

/** Where `date` stands in the horizon: day offset from today, or why it is outside. */
export function checkDateInHorizon(date: string, h: Horizon): DateCheck {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return { ok: false, reason: 'malformed' }
  if (!isValidDate(date)) return { ok: false, reason: 'impossible' }
  const offset = daysBetween(h.today, date)
  if (offset < 0) return { ok: false, reason: 'past' }
  if (date > h.last) return { ok: false, reason: 'beyond' }
  return { ok: true, offset }
}
