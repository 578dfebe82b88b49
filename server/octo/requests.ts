/**
 * OCTO request rules (docs/contracts/octo.md), pure: a body in, a typed
 * request out, or an OctoError naming the field. Unknown fields are ignored,
 * as the specification asks; `null` counts as absent.
 */
import { isValidDate } from '../calendar/days.ts'
import { badRequest, invalidProduct } from './errors.ts'
import { PRICING, type UnitRequest } from './mapping.ts'

export const MAX_AVAILABILITY_IDS = 100
export const MAX_UNITS = 100
export const MAX_UNIT_QUANTITY = 10_000
const MAX_INT4 = 2_147_483_647

export interface CalendarRequest {
  productId: string
  optionId: string
  localDateStart: string
  localDateEnd: string
  units: UnitRequest[] | undefined
}

export type Selector = { kind: 'range'; localDateStart: string; localDateEnd: string } | { kind: 'ids'; availabilityIds: string[] }

export interface AvailabilityRequest {
  productId: string
  optionId: string
  /** `localDate` arrives as a one-day range. */
  selector: Selector
  units: UnitRequest[] | undefined
}

type Body = Record<string, unknown>

function object(body: unknown): Body {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object')
  return body as Body
}

const present = (b: Body, k: string) => b[k] !== undefined && b[k] !== null

function text(b: Body, k: string): string {
  const v = b[k]
  if (!present(b, k)) throw badRequest(`${k} is required`)
  if (typeof v !== 'string') throw badRequest(`${k} must be a string`)
  return v
}

function date(b: Body, k: string): string {
  const v = text(b, k)
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw badRequest(`${k} must be a date written YYYY-MM-DD`)
  if (!isValidDate(v)) throw badRequest(`${k} is not a real calendar day: ${v}`)
  return v
}

/** The same month and day a year later (29 February → 28 February). */
export function oneYearAfter(day: string): string {
  const next = `${String(Number(day.slice(0, 4)) + 1).padStart(4, '0')}${day.slice(4)}`
  return isValidDate(next) ? next : `${next.slice(0, 8)}28`
}

function range(b: Body): { localDateStart: string; localDateEnd: string } {
  const localDateStart = date(b, 'localDateStart')
  const localDateEnd = date(b, 'localDateEnd')
  if (localDateEnd < localDateStart) throw badRequest(`localDateEnd (${localDateEnd}) is before localDateStart (${localDateStart})`)
  if (localDateEnd > oneYearAfter(localDateStart))
    throw badRequest(`the range from localDateStart to localDateEnd is over one year (at most ${oneYearAfter(localDateStart)})`)
  return { localDateStart, localDateEnd }
}

function units(b: Body): UnitRequest[] | undefined {
  if (!present(b, 'units')) return undefined
  const v = b.units
  if (!Array.isArray(v)) throw badRequest('units must be an array of { id, quantity }')
  if (v.length > MAX_UNITS) throw badRequest(`units must have at most ${MAX_UNITS} entries`)
  return v.map((u, i) => {
    if (u === null || typeof u !== 'object' || Array.isArray(u)) throw badRequest(`units[${i}] must be an object { id, quantity }`)
    const unit = u as Body
    if (typeof unit.id !== 'string') throw badRequest(`units[${i}].id must be a string`)
    const q = unit.quantity
    if (typeof q !== 'number' || !Number.isInteger(q) || q < 0 || q > MAX_UNIT_QUANTITY)
      throw badRequest(`units[${i}].quantity must be a whole number from 0 to ${MAX_UNIT_QUANTITY}`)
    return { id: unit.id, quantity: q }
  })
}

export function parseCalendarRequest(body: unknown): CalendarRequest {
  const b = object(body)
  return { productId: text(b, 'productId'), optionId: text(b, 'optionId'), ...range(b), units: units(b) }
}

const SELECTORS = 'exactly one of localDate, localDateStart with localDateEnd, or availabilityIds'

export function parseAvailabilityRequest(body: unknown): AvailabilityRequest {
  const b = object(body)
  const productId = text(b, 'productId')
  const optionId = text(b, 'optionId')
  const given = [present(b, 'localDate'), present(b, 'localDateStart') || present(b, 'localDateEnd'), present(b, 'availabilityIds')].filter(Boolean).length
  if (given !== 1) throw badRequest(`${given === 0 ? 'missing' : 'mixed'} selectors: give ${SELECTORS}`)
  let selector: Selector
  if (present(b, 'localDate')) {
    const day = date(b, 'localDate')
    selector = { kind: 'range', localDateStart: day, localDateEnd: day }
  } else if (present(b, 'availabilityIds')) {
    const ids = b.availabilityIds
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw badRequest('availabilityIds must be an array of strings')
    if (ids.length === 0 || ids.length > MAX_AVAILABILITY_IDS) throw badRequest(`availabilityIds must have 1 to ${MAX_AVAILABILITY_IDS} ids, got ${ids.length}`)
    selector = { kind: 'ids', availabilityIds: ids as string[] }
  } else {
    selector = { kind: 'range', ...range(b) }
  }
  return { productId, optionId, selector, units: units(b) }
}

/** OCTO's product id is text; ours is a positive Postgres integer. Anything else is unknown. */
export function productIdNumber(productId: string): number {
  if (!/^[1-9]\d{0,9}$/.test(productId) || Number(productId) > MAX_INT4) throw invalidProduct(productId)
  return Number(productId)
}

/** `Octo-Capabilities: octo/pricing, octo/content` → the ones slotsync applies (only octo/pricing). */
export function appliedCapabilities(header: string | string[] | undefined): string[] {
  const asked = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((c) => c.trim().toLowerCase())
  return asked.includes(PRICING) ? [PRICING] : []
}

/** The date part of an availability id (`2026-12-01T09:30:00+08:00`), when it has the shape of one. */
export function availabilityIdDate(id: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/.exec(id)
  return m && isValidDate(m[1]!) ? m[1] : undefined
}
