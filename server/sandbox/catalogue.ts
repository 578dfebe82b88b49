import { daysBetween, isValidDate, localDate, weekday, zonedTimeToInstant } from '../calendar/days.ts'
import type { PartnerSlotInput } from '../partner/schema.ts'
import { hash01, hashInt } from './rng.ts'
import { manySlotMinutes, seasonClosed, spreadZoneOf } from './shapes.ts'

/**
 * The sandbox's inventory: products 14 and 15 as the contract describes them
 * (docs/contracts/partner-api.md), plus generated products. Every answer is
 * a pure function of (seed, product, date, clock time), so a test can ask the
 * catalogue what the server must have served.
 */
export interface Catalogue {
  productIds(): number[]
  timeZone(productId: number): string
  has(productId: number): boolean
  /** What the partner answers for (product, date) at `nowMs`: `[]` for unknown products, closed, past and far days. */
  inventory(productId: number, date: string, nowMs: number): PartnerSlotInput[]
}

/**
 * `sample`: shaped like the partner's real sample (most products open a few
 * days a week). `dense`: every generated product open 6–7 days a week, like
 * museums: the budget is oversubscribed. `zones`: the dense shape with its
 * generated products spread over four time zones far apart. `seasonal`:
 * dense weekdays, whole seasons closed, and days of 30–200 slots that sell
 * out in the last days before they start (shapes.ts). Each shape is added
 * beside the others, never a change of one, so figures on each stay
 * comparable.
 */
export type CatalogueShape = 'sample' | 'dense' | 'zones' | 'seasonal'
export const CATALOGUE_SHAPES: readonly CatalogueShape[] = ['sample', 'dense', 'zones', 'seasonal']

export interface CatalogueOptions {
  seed: number
  /** Generated products besides 14 and 15. */
  products: number
  /** Every product's zone, but the `zones` shape's generated products (shapes.ts). */
  timeZone: string
  shape?: CatalogueShape
}

/** Days served from today on (a little beyond slotsync's 60, as the partner's "about two months"). */
export const CATALOGUE_HORIZON_DAYS = 62
export const FIRST_GENERATED_ID = 1000
/** Bookings move in steps of this much clock time, so two fetches in one step agree. */
export const BOOKING_STEP_MS = 15 * 60_000
const DAY_MS = 86_400_000
const LATEST_START = 23 * 60 + 30

interface PaxSpec {
  type: string
  name: string
  description: string
  primary: boolean
  capacity: number
  priceFactor: number
}

interface ProductSpec {
  id: number
  generated: boolean
  timeZone: string
  openWeekdays: ReadonlySet<number>
  times: string[]
  durationMin: number
  pax: PaxSpec[]
  /** Bookings for a slot start this many days before it. */
  leadDays: number
  /** Fraction of capacity the slot would sell by its start (> 1: sells out early). */
  demandRange: [number, number]
  closed(date: string): boolean
  adultPrice(date: string, time: string): number
  paxOnDay(date: string, pax: PaxSpec): boolean
}

const round2 = (x: number) => Math.round(x * 100) / 100
const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
const toMinutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5))

function product14(seed: number, timeZone: string): ProductSpec {
  return {
    id: 14,
    generated: false,
    timeZone,
    openWeekdays: new Set([0, 2, 4]),
    times: Array.from({ length: 9 }, (_, i) => hhmm(4 * 60 + i * 30)),
    durationMin: 0,
    pax: [
      { type: 'ADULT_12~99', name: 'Adult', description: '12 years and above', primary: true, capacity: 1000, priceFactor: 1 },
      { type: 'CHILD_3~11', name: 'Child', description: '3 to 11 years', primary: false, capacity: 1000, priceFactor: 0.75 },
    ],
    leadDays: 3,
    demandRange: [0.02, 0.3],
    closed: () => false,
    adultPrice: (date) => round2(180 + hash01(seed, 14, date, 'price') * 120),
    paxOnDay: (date, pax) => pax.primary || hash01(seed, 14, date, 'child') < 0.5,
  }
}

function product15(seed: number, timeZone: string): ProductSpec {
  return {
    id: 15,
    generated: false,
    timeZone,
    openWeekdays: new Set([0]),
    times: ['00:00'],
    durationMin: 0,
    pax: [
      { type: 'ADULT_16~99', name: 'Adult', description: '16 years and above', primary: true, capacity: 150, priceFactor: 1 },
      { type: 'CHILD_5~15', name: 'Child', description: '5 to 15 years', primary: false, capacity: 10, priceFactor: 0.75 },
      { type: 'INFANT_0~4', name: 'Infant', description: '4 years and under', primary: false, capacity: 10, priceFactor: 0 },
    ],
    leadDays: 3,
    demandRange: [0.05, 0.4],
    closed: () => false,
    adultPrice: (date) => (hash01(seed, 15, date, 'price') < 0.5 ? 441 : 341),
    paxOnDay: () => true,
  }
}

const OPTIONAL_PAX = [
  { type: 'CHILD_3~11', name: 'Child', description: '3 to 11 years', p: 0.6, priceFactor: 0.7 },
  { type: 'SENIOR_60~99', name: 'Senior', description: '60 years and above', p: 0.3, priceFactor: 0.8 },
  { type: 'INFANT_0~2', name: 'Infant', description: 'Under 3 years', p: 0.3, priceFactor: 0 },
  { type: 'STUDENT_13~25', name: 'Student', description: 'With a valid student card', p: 0.2, priceFactor: 0.85 },
]

// Shaped like the partner's real sample (product 14 opens three days a week,
// 15 one): most experiences open a few days, a few every day.
function openWeekdays(seed: number, id: number): Set<number> {
  const style = hash01(seed, id, 'weekdays')
  if (style < 0.1) return new Set([0, 1, 2, 3, 4, 5, 6])
  if (style < 0.25) return new Set([2, 3, 4, 5, 6])
  if (style < 0.45) return new Set([0, 6])
  const days = new Set([0, 1, 2, 3, 4, 5, 6].filter((d) => hash01(seed, id, 'weekday', d) < 0.35))
  if (days.size === 0) days.add(hashInt(0, 6, seed, id, 'only-day'))
  return days
}

// Daytime experiences start between 07:00 and 13:00 and end by 18:00; one
// in ten runs in the evening (17:00–23:30).
const LATEST_DAY_START = 18 * 60

function slotTimes(seed: number, id: number): string[] {
  let n = hashInt(1, 12, seed, id, 'slots')
  const evening = hash01(seed, id, 'evening') < 0.1
  const start = evening ? hashInt(34, 40, seed, id, 'start') * 30 : hashInt(14, 26, seed, id, 'start') * 30
  const latest = evening ? LATEST_START : LATEST_DAY_START
  let step = [30, 45, 60, 90, 120][hashInt(0, 4, seed, id, 'step')]!
  while (n > 1 && start + (n - 1) * step > latest && step > 15) step -= 15
  if (n > 1) n = Math.min(n, Math.floor((latest - start) / step) + 1)
  return Array.from({ length: n }, (_, i) => hhmm(start + i * step))
}

// Museums: open every day, or every day but one (a Monday more often than not).
function denseWeekdays(seed: number, id: number): Set<number> {
  const days = new Set([0, 1, 2, 3, 4, 5, 6])
  if (hash01(seed, id, 'dense-closed') < 0.6) days.delete(hash01(seed, id, 'dense-day') < 0.7 ? 1 : hashInt(0, 6, seed, id, 'dense-which'))
  return days
}

// Closed periods sit on absolute 40-day blocks, so they do not move as the clock advances.
function blockClosed(seed: number, id: number, date: string): boolean {
  const day = daysBetween('1970-01-01', date)
  const block = Math.floor(day / 40)
  if (hash01(seed, id, 'closed', block) >= 0.4) return false
  const from = hashInt(0, 30, seed, id, 'closed-from', block)
  const length = hashInt(2, 9, seed, id, 'closed-len', block)
  const inBlock = day - block * 40
  return inBlock >= from && inBlock < from + length
}

function generatedProduct(seed: number, id: number, shape: CatalogueShape, timeZone: string): ProductSpec {
  const seasonal = shape === 'seasonal'
  const pax: PaxSpec[] = [
    { type: 'ADULT_12~99', name: 'Adult', description: '12 years and above', primary: true, capacity: hashInt(10, 500, seed, id, 'cap'), priceFactor: 1 },
  ]
  // Timed entries: few seats a slot, an adult and at most a child type, so a day of 200 slots stays a modest answer.
  if (seasonal) pax[0]!.capacity = hashInt(4, 40, seed, id, 'cap')
  for (const o of seasonal ? OPTIONAL_PAX.slice(0, 1) : OPTIONAL_PAX) {
    if (hash01(seed, id, o.type) < o.p) pax.push({ ...o, primary: false, capacity: hashInt(5, 200, seed, id, o.type, 'cap') })
  }
  const basePrice = 10 + hash01(seed, id, 'base-price') * 290
  return {
    id,
    generated: true,
    timeZone: shape === 'zones' ? spreadZoneOf(id - FIRST_GENERATED_ID) : timeZone,
    openWeekdays: shape === 'sample' ? openWeekdays(seed, id) : denseWeekdays(seed, id),
    times: seasonal ? manySlotMinutes(seed, id).map(hhmm) : slotTimes(seed, id),
    durationMin: hash01(seed, id, 'has-duration') < 0.5 ? 0 : hashInt(1, 8, seed, id, 'duration') * 30,
    pax,
    // Sold in the last days before the slot, most of it on the day: a fetch of today sees seats go.
    leadDays: seasonal ? hashInt(1, 3, seed, id, 'lead') : hashInt(3, 21, seed, id, 'lead'),
    demandRange: seasonal ? [0.9, 1.6] : [0.2, 1.3],
    closed: seasonal ? (date) => seasonClosed(seed, id, date) : (date) => blockClosed(seed, id, date),
    adultPrice(date, time) {
      const weekend = [0, 6].includes(weekday(date)) ? 1.15 : 1
      const dayFactor = (0.85 + 0.3 * hash01(seed, id, date, 'price')) * weekend
      const slotFactor = 1 + 0.2 * hash01(seed, id, time, 'price')
      return round2(basePrice * dayFactor * slotFactor)
    },
    paxOnDay: (date, p) => p.primary || hash01(seed, id, date, p.type, 'on') < 0.85,
  }
}

export function createCatalogue(opts: CatalogueOptions): Catalogue {
  const { seed, timeZone } = opts
  const specs = new Map<number, ProductSpec>()
  for (const spec of [product14(seed, timeZone), product15(seed, timeZone)]) specs.set(spec.id, spec)
  for (let i = 0; i < opts.products; i++) specs.set(FIRST_GENERATED_ID + i, generatedProduct(seed, FIRST_GENERATED_ID + i, opts.shape ?? 'sample', timeZone))

  // Resolving a wall time in a time zone is the costliest step, and products share slot times.
  const starts = new Map<string, number>()
  const startOf = (date: string, time: string, zone: string) => {
    const key = `${zone} ${date}T${time}`
    let at = starts.get(key)
    if (at === undefined) {
      if (starts.size > 100_000) starts.clear()
      at = zonedTimeToInstant(date, time, zone)
      starts.set(key, at)
    }
    return at
  }

  function slot(spec: ProductSpec, date: string, time: string, nowMs: number): PartnerSlotInput | undefined {
    const id = spec.id
    const start = startOf(date, time, spec.timeZone)
    // A slot that has started is no longer on sale.
    if (nowMs >= start) return undefined
    const step = Math.floor(nowMs / BOOKING_STEP_MS) * BOOKING_STEP_MS
    const salesOpen = start - spec.leadDays * DAY_MS
    const gone = (what: string, p: number) =>
      hash01(seed, id, date, time, what, 'gone') < p && step >= start - hash01(seed, id, date, time, what, 'gone-at') * spec.leadDays * DAY_MS
    if (spec.generated && (hash01(seed, id, date, time, 'skip') < 0.08 || gone('slot', 0.06))) return undefined

    const capacity = spec.pax.reduce((n, p) => n + p.capacity, 0)
    const soldOut = spec.generated && (hash01(seed, id, date, 'sold-out') < 0.04 || hash01(seed, id, date, time, 'sold-out') < 0.06)
    const [lo, hi] = spec.demandRange
    const demand = lo + (hi - lo) * hash01(seed, id, date, time, 'demand')
    const progress = Math.min(1, Math.max(0, (step - salesOpen) / (start - salesOpen)))
    const curve = 1 + 2 * hash01(seed, id, date, time, 'curve')
    const booked = soldOut ? capacity : Math.floor(capacity * Math.min(1, demand * progress ** curve))

    const adult = spec.adultPrice(date, time)
    const currencyCode = 'SGD'
    const paxAvailability = spec.pax
      .filter((p) => spec.paxOnDay(date, p) && !(spec.generated && !p.primary && gone(p.type, 0.1)))
      .map((p) => {
        const price = round2(adult * p.priceFactor)
        // Bookings spread over pax types in proportion to capacity, so a full slot empties every type.
        const left = Math.max(0, p.capacity - Math.floor((booked * p.capacity) / capacity))
        return {
          type: p.type,
          name: p.name,
          description: p.description,
          ...(p.primary ? { isPrimary: true } : {}),
          min: p.primary ? 1 : 0,
          max: p.capacity,
          remaining: left,
          price: { discount: 0, finalPrice: price, originalPrice: price, currencyCode },
        }
      })
    return {
      startDate: date,
      startTime: time,
      endTime: hhmm(Math.min(toMinutes(time) + spec.durationMin, 23 * 60 + 59)),
      providerSlotId: `P${id}_${date}T${time}`,
      remaining: Math.max(0, capacity - booked),
      currencyCode,
      variantId: id,
      paxAvailability,
    }
  }

  return {
    productIds: () => [...specs.keys()],
    timeZone: (productId) => specs.get(productId)?.timeZone ?? timeZone,
    has: (productId) => specs.has(productId),
    inventory(productId, date, nowMs) {
      const spec = specs.get(productId)
      if (!spec || !isValidDate(date)) return []
      const offset = daysBetween(localDate(nowMs, spec.timeZone), date)
      if (offset < 0 || offset >= CATALOGUE_HORIZON_DAYS) return []
      if (!spec.openWeekdays.has(weekday(date)) || spec.closed(date)) return []
      const out: PartnerSlotInput[] = []
      for (const time of spec.times) {
        const s = slot(spec, date, time, nowMs)
        if (s) out.push(s)
      }
      return out
    },
  }
}
