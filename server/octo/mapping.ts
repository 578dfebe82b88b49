/**
 * Stored availability → OCTO objects (docs/contracts/octo.md), pure: no
 * Fastify, no database. The routes read through the availability service
 * and hand its rows here, so OCTO and the REST face answer from one read.
 */
import type { ProductSummary, StoredCalendar, StoredRange } from '../availability/service.ts'
import type { PaxRow, RangeSlotRow, UnitPriceRow } from '../availability/queries.ts'
import { addDays, daysBetween, localDate, localMinuteOfDay, zonedTimeToInstant } from '../calendar/days.ts'
import { currencyPrecision, octoPricing, sumPricing, timesQuantity, toMinorUnits, type OctoPricing } from './money.ts'
import { boundedMemo } from '../memo.ts'

export const OPTION_ID = 'DEFAULT'
export const PRICING = 'octo/pricing'

export const UNIT_TYPES = ['ADULT', 'YOUTH', 'CHILD', 'INFANT', 'FAMILY', 'SENIOR', 'STUDENT', 'MILITARY', 'OTHER'] as const
export type UnitType = (typeof UNIT_TYPES)[number]

/**
 * `ADULT_12~99` → ADULT: the OCTO type the partner's type starts with (any
 * case, so `Adults` and `CHILDREN` count too, as pricing.ts reads ADULT).
 */
export function unitType(paxType: string): UnitType {
  const upper = paxType.toUpperCase()
  return UNIT_TYPES.find((t) => upper.startsWith(t)) ?? 'OTHER'
}

/** `ADULT_12~99` → 12 to 99; a type without a `~` range: 0 to 100. */
export function unitAges(paxType: string): { minAge: number; maxAge: number } {
  const m = /(\d{1,3})~(\d{1,3})/.exec(paxType)
  return m ? { minAge: Number(m[1]), maxAge: Number(m[2]) } : { minAge: 0, maxAge: 100 }
}

// ---- times ---------------------------------------------------------------

const pad = (n: number) => String(n).padStart(2, '0')

export interface ZonedTime {
  /** `2026-12-01T09:30:00+08:00`: the wall time with the offset in force then. */
  local: string
  /** `2026-12-01T01:30:00Z`: the same instant in UTC, whole seconds. */
  utc: string
}

/**
 * A product-local day and "HH:mm" as OCTO writes it. The offset is the one
 * in force at that instant, so it changes across a DST switch. A wall time
 * the switch skips (02:30 on a spring-forward night) is the instant just
 * after the gap and is written as the wall time then (03:30+02:00).
 */
export function zonedTime(date: string, time: string, timeZone: string): ZonedTime {
  // Resolving a wall time costs several Intl calls (~100 µs); a served slot's
  // start is asked for again on every request, and zone rules do not change
  // while the process runs.
  return zonedTimes.get(`${timeZone} ${date} ${time}`, () => resolveZonedTime(date, time, timeZone))
}

const MAX_ZONED_TIMES = 100_000
const zonedTimes = boundedMemo<ZonedTime>(MAX_ZONED_TIMES)

function resolveZonedTime(date: string, time: string, timeZone: string): ZonedTime {
  const instant = zonedTimeToInstant(date, time, timeZone)
  const day = localDate(instant, timeZone)
  const minute = localMinuteOfDay(instant, timeZone)
  const wall = Date.parse(`${day}T00:00:00Z`) + minute * 60_000
  const offset = Math.round((wall - instant) / 60_000)
  const sign = offset < 0 ? '-' : '+'
  const abs = Math.abs(offset)
  return {
    local: `${day}T${pad(Math.floor(minute / 60))}:${pad(minute % 60)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`,
    utc: `${new Date(instant).toISOString().slice(0, 19)}Z`,
  }
}

// ---- products --------------------------------------------------------------

export function octoUnit(p: ProductSummary['paxTypes'][number]) {
  return {
    id: p.type,
    internalName: p.name || p.type,
    reference: null,
    type: unitType(p.type),
    restrictions: { ...unitAges(p.type), idRequired: false, minQuantity: p.min, maxQuantity: p.max, paxCount: 1, accompaniedBy: [] as string[] },
    requiredContactFields: [] as string[],
  }
}

// The specification wants at least one start time per option; a product with
// nothing stored in its horizon (never fetched, or closed for 60 days) has
// none to show, so it gets local midnight rather than an invalid option.
const NO_START_TIMES = ['00:00']

export function octoProduct(p: ProductSummary, opts: { pricing: boolean }) {
  return {
    id: String(p.id),
    internalName: `Product ${p.id}`,
    reference: null,
    locale: 'en',
    timeZone: p.timeZone,
    allowFreesale: false,
    instantConfirmation: true,
    instantDelivery: true,
    availabilityRequired: true,
    availabilityType: 'START_TIME' as const,
    deliveryFormats: ['QRCODE' as const],
    deliveryMethods: ['TICKET' as const],
    redemptionMethod: 'DIGITAL' as const,
    options: [
      {
        id: OPTION_ID,
        default: true,
        internalName: 'Default',
        reference: null,
        availabilityLocalStartTimes: p.startTimes.length ? [...p.startTimes] : NO_START_TIMES,
        cancellationCutoff: '0 hours',
        cancellationCutoffAmount: 0,
        cancellationCutoffUnit: 'hour' as const,
        requiredContactFields: [] as string[],
        restrictions: { minUnits: null, maxUnits: null },
        units: p.paxTypes.map(octoUnit),
      },
    ],
    ...(opts.pricing
      ? { ...(p.currencies[0] ? { defaultCurrency: p.currencies[0] } : {}), availableCurrencies: [...p.currencies], pricingPer: 'UNIT' as const }
      : {}),
  }
}

// ---- availability ------------------------------------------------------------

export interface UnitRequest {
  id: string
  quantity: number
}

export interface MapOptions {
  pricing: boolean
  units?: readonly UnitRequest[]
}

type PricingUnit = OctoPricing & { unitId: string }

const unitPricing = (u: UnitPriceRow): PricingUnit => ({ ...octoPricing(u[1], u[2], u[3]), unitId: u[0] })
const paxPricing = (p: PaxRow): PricingUnit => ({ ...octoPricing(p.finalPrice, p.originalPrice, p.currencyCode), unitId: p.type })

/** Days from `from` to `to` inclusive (at most a year and a day: the request rules bound it). */
function eachDay(from: string, to: string): string[] {
  const n = daysBetween(from, to)
  return Array.from({ length: n + 1 }, (_, i) => addDays(from, i))
}

const inHorizon = (date: string, r: Pick<StoredRange, 'horizon'>) => date >= r.horizon.today && date <= r.horizon.last

/**
 * Per pax type, its lowest price among `slots` (retail, then original, then
 * the first slot); types in code point order. The calendar's rule: the day's
 * row applies it in SQL when the day is stored (day_calendar_row, migration
 * 20261212090000_coverage_reads); tests hold the two equal.
 */
export function lowestUnitPrices(slots: readonly RangeSlotRow[]): PricingUnit[] {
  return lowestUnitRows(slots).map(unitPricing)
}

/** lowestUnitPrices with each winner as its stored decimal text: [type, final, original, currency]. */
export function lowestUnitRows(slots: readonly RangeSlotRow[]): UnitPriceRow[] {
  // Compared on the stored text converted once per pax row.
  const best = new Map<string, { pax: PaxRow; retail: number; original: number }>()
  for (const s of slots) {
    for (const p of s.pax) {
      const digits = currencyPrecision(p.currencyCode)
      const retail = toMinorUnits(p.finalPrice, digits)
      const original = toMinorUnits(p.originalPrice, digits)
      const seen = best.get(p.type)
      if (!seen || retail < seen.retail || (retail === seen.retail && original < seen.original)) best.set(p.type, { pax: p, retail, original })
    }
  }
  return [...best.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((k) => {
      const { pax } = best.get(k)!
      return [pax.type, pax.finalPrice, pax.originalPrice, pax.currencyCode] as const
    })
}

/**
 * One OCTO calendar day per day of the range, in order, from the stored day
 * rows (queries.ts CalendarDayRow). A day of the served horizon never fetched
 * is omitted, never CLOSED: nobody knows yet whether it is open (octo.md). A
 * day outside the horizon, or fetched with no slots, is CLOSED; with slots but
 * none left, SOLD_OUT. `unitPricingFrom` is each unit's lowest price among the
 * day's slots, sold out or not (lowestUnitPrices' rule, applied when the day
 * was stored), as the contract words it (/dates looks only at slots with
 * something left, by its own contract).
 */
export function octoCalendar(cal: Pick<StoredCalendar, 'horizon' | 'days'>, from: string, to: string, opts: MapOptions) {
  const fetched = new Map(cal.days.map((d) => [d[0], d]))
  const answer = []
  for (const date of eachDay(from, to)) {
    const inside = inHorizon(date, cal)
    const day = inside ? fetched.get(date) : undefined
    if (inside && !day) continue
    const [, slotCount = 0, vacancies = 0, units = []] = day ?? []
    answer.push({
      localDate: date,
      available: vacancies > 0,
      status: (slotCount === 0 ? 'CLOSED' : vacancies > 0 ? 'AVAILABLE' : 'SOLD_OUT') as 'AVAILABLE' | 'SOLD_OUT' | 'CLOSED',
      vacancies,
      capacity: null,
      openingHours: [] as { from: string; to: string }[],
      ...(opts.pricing ? { unitPricingFrom: units.map(unitPricing) } : {}),
    })
  }
  return answer
}

/** The OCTO availability id of a stored slot: its start, local, with the offset. */
export function availabilityId(s: Pick<RangeSlotRow, 'date' | 'startTime'>, timeZone: string): string {
  return zonedTime(s.date, s.startTime, timeZone).local
}

function slotEnd(s: RangeSlotRow, timeZone: string, start: ZonedTime): string {
  if (s.endTime === s.startTime) return start.local
  // An end before the start is past midnight: the next day.
  return zonedTime(s.endTime < s.startTime ? addDays(s.date, 1) : s.date, s.endTime, timeZone).local
}

/** Total for the units asked for; none when a unit is not sold in this slot or currencies differ. */
function totalPricing(pax: readonly PaxRow[], units: readonly UnitRequest[]): OctoPricing | undefined {
  const parts: OctoPricing[] = []
  for (const u of units) {
    if (u.quantity === 0) continue
    const p = pax.find((x) => x.type === u.id)
    if (!p) return undefined
    parts.push(timesQuantity(octoPricing(p.finalPrice, p.originalPrice, p.currencyCode), u.quantity))
  }
  return sumPricing(parts)
}

export function octoAvailability(s: RangeSlotRow, timeZone: string, opts: MapOptions) {
  const start = zonedTime(s.date, s.startTime, timeZone)
  const total = opts.pricing && opts.units?.length ? totalPricing(s.pax, opts.units) : undefined
  return {
    id: start.local,
    localDateTimeStart: start.local,
    localDateTimeEnd: slotEnd(s, timeZone, start),
    allDay: false,
    available: s.remaining > 0,
    status: (s.remaining > 0 ? 'AVAILABLE' : 'SOLD_OUT') as 'AVAILABLE' | 'SOLD_OUT',
    vacancies: s.remaining,
    capacity: null,
    maxUnits: null,
    utcCutoffAt: start.utc,
    openingHours: [] as { from: string; to: string }[],
    ...(opts.pricing ? { unitPricing: s.pax.map(paxPricing) } : {}),
    ...(total ? { pricing: total } : {}),
  }
}

export type OctoAvailability = ReturnType<typeof octoAvailability>

/** Every served slot of the days `from` to `to`, ordered by start. */
export function octoAvailabilities(range: Pick<StoredRange, 'horizon' | 'slots' | 'timeZone'>, from: string, to: string, opts: MapOptions): OctoAvailability[] {
  return range.slots.filter((s) => s.date >= from && s.date <= to && inHorizon(s.date, range)).map((s) => octoAvailability(s, range.timeZone, opts))
}
