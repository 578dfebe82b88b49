/**
 * Calendar days as `YYYY-MM-DD` strings in a product's own time zone. Day
 * arithmetic is done on the calendar (UTC noon anchors), never by adding
 * 24 h to an instant, so DST changes cannot skip or double a day.
 */
import { boundedMemo } from '../memo.ts'

export type IsoDate = string

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const DAY_MS = 86_400_000

const formatters = new Map<string, Intl.DateTimeFormat>()
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
    formatters.set(timeZone, f)
  }
  return f
}

interface LocalParts {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

function localParts(instant: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {}
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! }
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

/** True for a real calendar day (`2026-02-30` is not). */
export function isValidDate(value: string): boolean {
  const m = DATE_RE.exec(value)
  if (!m) return false
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (mo < 1 || mo > 12 || d < 1 || y < 1970 || y > 9999) return false
  const dt = new Date(Date.UTC(y, mo - 1, d))
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d
}

/** The calendar day it is at `instant` in `timeZone`. */
export function localDate(instant: number, timeZone: string): IsoDate {
  const p = localParts(instant, timeZone)
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`
}

/** Minutes since local midnight at `instant` in `timeZone` (wall clock). */
export function localMinuteOfDay(instant: number, timeZone: string): number {
  const p = localParts(instant, timeZone)
  return p.hour * 60 + p.minute
}

function toUtcNoon(date: IsoDate): number {
  const m = DATE_RE.exec(date)
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${date}`)
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 12)
}

function fromUtc(ms: number): IsoDate {
  const d = new Date(ms)
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
}

export function addDays(date: IsoDate, days: number): IsoDate {
  return fromUtc(toUtcNoon(date) + days * DAY_MS)
}

/** Whole calendar days from `a` to `b` (b − a). */
export function daysBetween(a: IsoDate, b: IsoDate): number {
  return Math.round((toUtcNoon(b) - toUtcNoon(a)) / DAY_MS)
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(date: IsoDate): number {
  return new Date(toUtcNoon(date)).getUTCDay()
}

/** `count` consecutive days starting at `from`. */
export function dayRange(from: IsoDate, count: number): IsoDate[] {
  const out: IsoDate[] = []
  for (let i = 0; i < count; i++) out.push(addDays(from, i))
  return out
}

/**
 * The instant at which the wall clock in `timeZone` shows `time` ("HH:mm") on
 * `date`. In a DST gap the wall time does not exist; the instant just after
 * the gap is returned. In an overlap, the earlier instant.
 */
export function zonedTimeToInstant(date: IsoDate, time: string, timeZone: string): number {
  // The engine asks for the same few local midnights thousands of times a
  // ranking; each answer costs four formatToParts, whose garbage was most of
  // the service's allocation. Zone rules are fixed for the process's life.
  return instants.get(`${timeZone}|${date}|${time}`, () => computeZonedTimeToInstant(date, time, timeZone))
}

/** Past this many remembered instants the memo starts over: the horizon's days × a few times × the zones in use fit well within it. */
export const INSTANT_MEMO_MAX = 20_000
const instants = boundedMemo<number>(INSTANT_MEMO_MAX)
/** How many instants are remembered (for the test of the bound). */
export const instantMemoSize = () => instants.size

function computeZonedTimeToInstant(date: IsoDate, time: string, timeZone: string): number {
  const m = DATE_RE.exec(date)
  const t = /^(\d{2}):(\d{2})$/.exec(time)
  if (!m || !t) throw new RangeError(`bad date/time: ${date} ${time}`)
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(t[1]), Number(t[2]))
  // Offset-guessing: try the offsets in force around that wall time.
  const candidates = new Set<number>()
  for (const probe of [wall - DAY_MS, wall, wall + DAY_MS]) {
    const p = localParts(probe, timeZone)
    const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
    candidates.add(asUtc - probe)
  }
  const matches = [...candidates]
    .map((offset) => wall - offset)
    .filter((instant) => {
      const p = localParts(instant, timeZone)
      return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) === wall
    })
    .sort((a, b) => a - b)
  if (matches.length) return matches[0]!
  // In a gap: the largest candidate offset's instant lands just after it.
  return Math.max(...[...candidates].map((offset) => wall - offset))
}

/** The instant local midnight starts `date` in `timeZone`. */
export function startOfDay(date: IsoDate, timeZone: string): number {
  return zonedTimeToInstant(date, '00:00', timeZone)
}
