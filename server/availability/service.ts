import type pg from 'pg'
import type { AvailabilityService, DatesResult, PaxView, SlotsResult, SlotView } from '../api/services.ts'
import { isValidDate } from '../calendar/days.ts'
import { checkDateInHorizon, horizonAt, type DateCheck, type Horizon } from '../calendar/horizon.ts'
import type { Clock } from '../clock.ts'
import { isValidTimeZone } from '../config.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import { freshnessOf } from './freshness.ts'
import { choosePrimary, money, sortPax } from './pricing.ts'
import { loadDay, lowestPricePerDay, productTimeZone, type PaxRow, type SlotRow } from './queries.ts'

export interface AvailabilityDeps {
  pool: Pick<pg.Pool, 'query'>
  clock: Pick<Clock, 'now'>
  /** For a product row whose time zone the runtime does not know (should not happen). */
  defaultTimeZone: string
}

const MAX_INT4 = 2_147_483_647
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/
const NO_HORIZON: Horizon = { today: '', last: '' }

// The routers validate with zod first; these guards keep the service safe
// when called directly (other code, tests) and name the same fields.
function checkProductId(productId: number): void {
  if (!Number.isInteger(productId) || productId < 1 || productId > MAX_INT4) {
    throw new BadRequestError('productId', `must be a positive integer (1 to ${MAX_INT4})`)
  }
}

const DATE_REASON: Record<Exclude<DateCheck, { ok: true }>['reason'], (date: string, h: Horizon, tz: string) => string> = {
  malformed: () => 'must be a date written YYYY-MM-DD',
  impossible: () => 'is not a real calendar day',
  past: (d, h, tz) => `${d} is in the past (today is ${h.today} in ${tz})`,
  beyond: (d, h, tz) => `${d} is beyond the served horizon (the last day is ${h.last} in ${tz})`,
}

function toPax(p: PaxRow): PaxView {
  return {
    type: p.type,
    name: p.name,
    description: p.description,
    price: { finalPrice: money(p.finalPrice), currencyCode: p.currencyCode, originalPrice: money(p.originalPrice) },
    min: p.min,
    max: p.max,
    remaining: p.remaining,
    isPrimary: p.isPrimary,
  }
}

function toSlot(s: SlotRow, date: string): SlotView {
  const pax = s.pax.map(toPax)
  const primary = choosePrimary(pax)
  return {
    startTime: s.startTime,
    startDate: date,
    endTime: s.endTime,
    providerSlotId: s.providerSlotId,
    price: primary ? { ...primary.price } : null,
    remaining: s.remaining,
    paxAvailability: sortPax(pax, primary),
  }
}

export function createAvailabilityService(deps: AvailabilityDeps): AvailabilityService {
  const { pool, clock } = deps
  const zone = (tz: string) => (isKnownTimeZone(tz) ? tz : deps.defaultTimeZone)

  return {
    async slots(productId, date): Promise<SlotsResult> {
      checkProductId(productId)
      // Shape first: the query casts the date, so it must be a real day.
      if (!DATE_RE.test(date)) throw new BadRequestError('date', DATE_REASON.malformed(date, NO_HORIZON, ''))
      if (!isValidDate(date)) throw new BadRequestError('date', DATE_REASON.impossible(date, NO_HORIZON, ''))
      const day = await loadDay(pool, productId, date)
      if (!day) throw new NotFoundError(`no product ${productId}`)
      const now = clock.now()
      const tz = zone(day.timeZone)
      const h = horizonAt(now, tz)
      const check = checkDateInHorizon(date, h)
      if (!check.ok) throw new BadRequestError('date', DATE_REASON[check.reason](date, h, tz))
      return {
        slots: day.slots.map((s) => toSlot(s, date)),
        freshness: freshnessOf(day.lastFetchedAt, check.offset, now),
      }
    },

    async dates(productId): Promise<DatesResult> {
      checkProductId(productId)
      const tz = await productTimeZone(pool, productId)
      if (tz === undefined) throw new NotFoundError(`no product ${productId}`)
      const h = horizonAt(clock.now(), zone(tz))
      const rows = await lowestPricePerDay(pool, productId, h.today, h.last)
      return {
        dates: rows.map((r) => ({ date: r.date, price: { finalPrice: money(r.finalPrice), currencyCode: r.currencyCode, originalPrice: money(r.originalPrice) } })),
      }
    },
  }
}

// Time zones come from product rows; checking one costs an Intl constructor, so once per name.
const knownZones = new Map<string, boolean>()
function isKnownTimeZone(tz: string): boolean {
  let known = knownZones.get(tz)
  if (known === undefined) knownZones.set(tz, (known = isValidTimeZone(tz)))
  return known
}
