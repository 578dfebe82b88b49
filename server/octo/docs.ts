/**
 * How the OCTO routes appear in /openapi.json (tag "octo"). Descriptive
 * only: the routes validate bodies themselves (requests.ts) to answer with
 * OCTO's error codes. The full shapes are the OCTO specification's
 * (octotravel/octo-types); these name the fields slotsync fills.
 */
import { z } from 'zod'

const unit = z.object({ id: z.string().meta({ example: 'ADULT_12~99' }), quantity: z.number().int().min(0) })
const pricing = z
  .object({
    original: z.number().int(),
    retail: z.number().int(),
    net: z.null(),
    currency: z.string().meta({ example: 'SGD' }),
    currencyPrecision: z.number().int(),
    includedTaxes: z.array(z.never()),
  })
  .meta({ id: 'OctoPricing', description: 'Integers in the currency minor unit' })
const unitPricing = pricing.extend({ unitId: z.string() })

export const octoErrorSchema = z
  .object({
    error: z.string().meta({ example: 'INVALID_PRODUCT_ID' }),
    errorMessage: z.string(),
    productId: z.string().optional(),
    optionId: z.string().optional(),
    unitId: z.string().optional(),
    availabilityId: z.string().optional(),
  })
  .meta({ id: 'OctoError' })

export const calendarBodySchema = z
  .object({
    productId: z.string().meta({ example: '14' }),
    optionId: z.string().meta({ example: 'DEFAULT' }),
    localDateStart: z.string().meta({ example: '2026-12-01' }),
    localDateEnd: z.string().meta({ example: '2027-01-29' }),
    units: z.array(unit).optional(),
  })
  .meta({ id: 'OctoCalendarRequest' })

export const availabilityBodySchema = z
  .object({
    productId: z.string().meta({ example: '14' }),
    optionId: z.string().meta({ example: 'DEFAULT' }),
    localDate: z.string().optional(),
    localDateStart: z.string().optional(),
    localDateEnd: z.string().optional(),
    availabilityIds: z.array(z.string()).max(100).optional(),
    units: z.array(unit).optional(),
  })
  .meta({
    id: 'OctoAvailabilityRequest',
    description: 'Exactly one of localDate, localDateStart + localDateEnd (at most one year), availabilityIds (at most 100)',
  })

const supplier = z
  .object({
    id: z.string(),
    name: z.string(),
    endpoint: z.string(),
    contact: z.object({ website: z.string().nullable(), email: z.string().nullable(), telephone: z.string().nullable(), address: z.string().nullable() }),
  })
  .meta({ id: 'OctoSupplier' })
const product = z
  .object({
    id: z.string(),
    internalName: z.string(),
    timeZone: z.string(),
    availabilityType: z.literal('START_TIME'),
    options: z.array(
      z.object({ id: z.literal('DEFAULT'), availabilityLocalStartTimes: z.array(z.string()), units: z.array(z.object({ id: z.string(), type: z.string() })) }),
    ),
  })
  .meta({ id: 'OctoProduct', description: 'OCTO Product (more fields per the specification)' })
const calendarDay = z
  .object({
    localDate: z.string(),
    available: z.boolean(),
    status: z.enum(['AVAILABLE', 'SOLD_OUT', 'CLOSED']),
    vacancies: z.number().int(),
    capacity: z.null(),
    openingHours: z.array(z.never()),
    unitPricingFrom: z.array(unitPricing).optional(),
  })
  .meta({ id: 'OctoAvailabilityCalendar' })
const availability = z
  .object({
    id: z.string().meta({ example: '2026-12-01T09:30:00+08:00' }),
    localDateTimeStart: z.string(),
    localDateTimeEnd: z.string(),
    allDay: z.boolean(),
    available: z.boolean(),
    status: z.enum(['AVAILABLE', 'SOLD_OUT']),
    vacancies: z.number().int(),
    capacity: z.null(),
    maxUnits: z.null(),
    utcCutoffAt: z.string().meta({ example: '2026-12-01T01:30:00Z' }),
    openingHours: z.array(z.never()),
    unitPricing: z.array(unitPricing).optional(),
    pricing: pricing.optional(),
  })
  .meta({ id: 'OctoAvailability' })

const headers = z.object({ 'octo-capabilities': z.string().optional().meta({ description: 'Comma-separated; slotsync applies `octo/pricing`' }) })

function responses(ok: z.ZodType, withBadRequest: boolean) {
  const err = (description: string) => ({ description, content: { 'application/json': { schema: octoErrorSchema } } })
  return {
    200: { description: 'OK (the Octo-Capabilities header lists the capabilities applied)', content: { 'application/json': { schema: ok } } },
    ...(withBadRequest ? { 400: err('BAD_REQUEST or INVALID_PRODUCT_ID / INVALID_OPTION_ID / INVALID_UNIT_ID / INVALID_AVAILABILITY_ID with the id') } : {}),
    401: err('UNAUTHORIZED: no key or an unknown key'),
    429: err('TOO_MANY_REQUESTS: the per-IP limit (API_RATE_LIMIT_PER_MINUTE); see Retry-After'),
    503: err('SERVICE_UNAVAILABLE: the database is unreachable; retry shortly'),
  }
}

const base = { tags: ['octo'], security: [{ octoBearer: [] }], headers }

export const OCTO_DOCS = {
  supplier: { ...base, operationId: 'octoGetSupplier', summary: 'OCTO supplier', response: responses(supplier, false) },
  products: {
    ...base,
    operationId: 'octoListProducts',
    summary: 'OCTO products (one option, DEFAULT; one unit per pax type)',
    response: responses(z.array(product), false),
  },
  product: {
    ...base,
    operationId: 'octoGetProduct',
    summary: 'One OCTO product',
    params: z.object({ id: z.string().meta({ example: '14' }) }),
    response: responses(product, true),
  },
  calendar: {
    ...base,
    operationId: 'octoGetAvailabilityCalendar',
    summary:
      'One entry per day of the range: available, status, vacancies (+ unitPricingFrom with octo/pricing); a day of the horizon never fetched yet is left out, never CLOSED',
    body: calendarBodySchema,
    response: responses(z.array(calendarDay), true),
  },
  availability: {
    ...base,
    operationId: 'octoGetAvailability',
    summary: 'One entry per slot, by start (+ unitPricing, pricing with octo/pricing)',
    description:
      'One day (localDate, or ids all on one day) is a live check: fetched from the partner now when stored longer ago than OCTO_LIVE_MAX_AGE_S. Every answer carries the header Slotsync-Fetched-At: the oldest fetch among its days (ISO), or "never".',
    body: availabilityBodySchema,
    response: responses(z.array(availability), true),
  },
}
