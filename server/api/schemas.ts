import { z } from 'zod'
import { FRESHNESS_STATES, LIVE_RESULTS } from '../availability/freshness.ts'
import { isValidDate } from '../calendar/days.ts'
import { parseEventId } from '../changes/event.ts'
import { isValidTimeZone } from '../config.ts'
import { ERROR_CODES } from '../errors.ts'

/**
 * The zod schemas both faces share: tRPC validates inputs with them, the REST
 * routes hand the same inputs to the same procedures, and the OpenAPI
 * document is generated from them. The view types in services.ts are
 * inferred from the output schemas, so docs and code cannot disagree.
 *
 * Every field a client sees has a doc: its `.meta({ description })` (the
 * OpenAPI document's, which the SDK's types carry too), else a TSDoc comment
 * (the SDK's only; an editor shows it on hover). sdk/scripts/field-docs.ts
 * copies them into the SDK; tests/unit/sdk-field-docs.test.ts fails on a
 * field without one.
 */

// The product id is a Postgres integer: anything above would fail in SQL, not here.
export const MAX_PRODUCT_ID = 2_147_483_647
const POSITIVE_INT = `must be a positive integer (1 to ${MAX_PRODUCT_ID})`
const required = (msg: string) => (iss: { input: unknown }) => (iss.input === undefined ? 'is required' : msg)

export const productIdSchema = z
  .number({ error: required(POSITIVE_INT) })
  .int({ error: POSITIVE_INT })
  .min(1, { error: POSITIVE_INT })
  .max(MAX_PRODUCT_ID, { error: POSITIVE_INT })
  .meta({ description: "The partner's product (experience) id", example: 14 })

const DATE_FORMAT = 'must be a date written YYYY-MM-DD'
export const isoDateSchema = z
  .string({ error: required(DATE_FORMAT) })
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: DATE_FORMAT })
  .refine(isValidDate, { error: 'is not a real calendar day', abort: true })
  .meta({ description: "A calendar day in the product's time zone", example: '2026-12-01' })

const NOT_AN_OBJECT = 'must be a JSON object'
const strict = (iss: { code?: string; input: unknown }) => (iss.code === 'unrecognized_keys' ? 'is not a known field' : NOT_AN_OBJECT)

const MAX_AGE = 'must be a whole number of seconds from 1 to 86400'
/** A live check's maximum age (public-api.md "Live check"): at most a day, the longest any tier keeps a day. */
export const maxAgeSchema = z
  .number({ error: MAX_AGE })
  .int({ error: MAX_AGE })
  .min(1, { error: MAX_AGE })
  .max(86_400, { error: MAX_AGE })
  .meta({ description: 'Live check: when the stored day is older than this many seconds, fetch it from the partner now', example: 60 })

export const slotsInput = z.object({ productId: productIdSchema, date: isoDateSchema, maxAgeS: maxAgeSchema.optional() }, { error: NOT_AN_OBJECT })
export const datesInput = z.object({ productId: productIdSchema }, { error: NOT_AN_OBJECT })

/**
 * Pause/resume: nothing means everything. Strict, so a typo such as
 * `{ "productID": 14 }` is refused instead of silently pausing every product.
 */
export const syncTargetInput = z.strictObject({ productId: productIdSchema.optional() }, { error: strict }).optional()

export const runRequestSchema = z
  .strictObject(
    {
      productId: productIdSchema.optional(),
      from: isoDateSchema.optional().meta({ description: 'First day to refresh (default: today)' }),
      to: isoDateSchema.optional().meta({ description: 'Last day to refresh (default: today + 59)' }),
    },
    { error: strict },
  )
  .refine((r) => !r.from || !r.to || r.from <= r.to, { error: 'must not be before from', path: ['to'] })
export const runInput = runRequestSchema.optional()

const TIME_ZONE = 'must be an IANA time zone name such as Asia/Singapore'
export const timeZoneSchema = z
  .string({ error: TIME_ZONE })
  .min(1, { error: TIME_ZONE })
  .max(64, { error: TIME_ZONE })
  .refine(isValidTimeZone, { error: (iss) => `is not a known IANA time zone: "${String(iss.input)}"` })
  .meta({ description: "The product's time zone: its calendar days are local to it", example: 'Asia/Singapore' })

export const productUpsertInput = z.strictObject({ productId: productIdSchema, timeZone: timeZoneSchema.optional() }, { error: strict })
export const productRemoveInput = z.strictObject({ productId: productIdSchema }, { error: strict })

const EVENT_ID = 'must be the id of a change event (a non-negative integer)'
/** tRPC hands a reconnecting client's last id in as a string; a caller may give a number. */
export const eventIdSchema = z
  .union([z.string(), z.number()], { error: EVENT_ID })
  .transform((v, ctx) => {
    const id = parseEventId(v)
    if (id === undefined) {
      ctx.addIssue({ code: 'custom', message: EVENT_ID })
      return z.NEVER
    }
    return id
  })
  .meta({ description: 'Resume after this event id (the last one received)' })

export const productIdListSchema = z.array(productIdSchema, { error: 'must be a list of product ids' }).max(1000, { error: 'must name at most 1000 products' })

export const changesInput = z
  .object(
    {
      /** Only these products' changes (default: every product). */
      productIds: productIdListSchema.optional(),
      lastEventId: eventIdSchema.optional(),
    },
    { error: NOT_AN_OBJECT },
  )
  .optional()

// ---- outputs -------------------------------------------------------------

export const priceSchema = z
  .object({
    /** What the customer pays, in `currencyCode`. */
    finalPrice: z.number().meta({ example: 242.14 }),
    /** ISO 4217 code, three letters, as the partner sends it. */
    currencyCode: z.string().meta({ example: 'SGD' }),
    /** The price before any discount (the partner's retail price); equal to `finalPrice` when there is none. */
    originalPrice: z.number().meta({ example: 242.14 }),
  })
  .meta({ id: 'Price', description: 'Money as JSON numbers with at most two decimals' })

export const paxSchema = z
  .object({
    /** The partner's pax type code, unique within the slot (with the age range it covers, if any). */
    type: z.string().meta({ example: 'ADULT_12~99' }),
    /** Its display name, as the partner sends it. */
    name: z.string(),
    /** Its description, as the partner sends it; empty when it sends none. */
    description: z.string(),
    price: priceSchema,
    /** The fewest tickets of this type one booking may hold. */
    min: z.number().int(),
    /** The most tickets of this type one booking may hold. */
    max: z.number().int(),
    /** Tickets of this type left, when the day was fetched. */
    remaining: z.number().int(),
    isPrimary: z.boolean().meta({ description: 'Flagged primary by the partner' }),
  })
  .meta({ id: 'PaxAvailability' })

export const slotSchema = z
  .object({
    startTime: z.string().meta({ example: '04:00', description: 'HH:mm, product-local' }),
    /** The slot's day, YYYY-MM-DD, product-local. */
    startDate: z.string().meta({ example: '2026-12-01' }),
    /** HH:mm, product-local, as the partner sends it (so far always equal to `startTime`: do not rely on it). */
    endTime: z.string(),
    /** The partner's stable id of the slot (product, date, time). */
    providerSlotId: z.string(),
    price: priceSchema.nullable().meta({ description: "The primary pax type's price; null for a slot without pax types" }),
    /** Places left in the slot as a whole, when the day was fetched. */
    remaining: z.number().int(),
    paxAvailability: z.array(paxSchema).meta({ description: 'Primary first, then by type' }),
  })
  .meta({ id: 'Slot' })

export const freshnessSchema = z
  .object({
    fetchedAt: z.string().nullable().meta({ description: 'Last successful fetch of this day (ISO), null if never' }),
    state: z
      .enum(FRESHNESS_STATES)
      .meta({ description: "never: not fetched yet (an empty list means nothing); fresh: within the day's target age; stale: older" }),
    live: z.enum(LIVE_RESULTS).optional().meta({
      description:
        'Only after a live check (maxAge) that could not answer a fresh day: refused (no budget or allowance left: retry after retryAfterS) or failed (reason)',
    }),
    reason: z.string().optional().meta({ description: 'live: failed: why' }),
    retryAfterS: z.number().int().optional().meta({ description: 'live: refused: seconds until a live check may be granted (also the Retry-After header)' }),
  })
  .meta({ id: 'Freshness' })

export const slotsResultSchema = z
  .object({
    /** The day's slots by start time; empty when the day is closed, sold out, or not fetched yet (`freshness.state: 'never'`). */
    slots: z.array(slotSchema),
    /** How old the stored answer is. */
    freshness: freshnessSchema,
  })
  .meta({ id: 'SlotsResult' })

export const datesResultSchema = z
  .object({
    /** The days with a slot left, ascending. */
    dates: z.array(
      z.object({
        /** YYYY-MM-DD, product-local. */
        date: z.string().meta({ example: '2026-12-01' }),
        /** The lowest slot price that day. */
        price: priceSchema,
      }),
    ),
    pending: z
      .array(z.string().meta({ example: '2026-12-09' }))
      .meta({ description: 'Days of the horizon never fetched yet, ascending: absent from `dates` because unknown, not because closed' }),
    oldestFetchedAt: z.string().nullable().meta({ description: 'Oldest fetch (ISO) among the fetched days of the horizon; null when none was' }),
  })
  .meta({ id: 'DatesResult', description: 'Days from today to today + 59 with a slot left; price = lowest slot price that day' })

export const productSchema = z
  .object({
    /** The partner's product id. */
    id: z.number().int().meta({ example: 14 }),
    /** Its IANA time zone: its calendar days are local to it. */
    timeZone: z.string().meta({ example: 'Asia/Singapore' }),
    /** Paused on its own (sync pause with its productId). */
    paused: z.boolean(),
    addedAt: z.string().meta({ description: 'When the product was added (ISO)' }),
    lastSuccessAt: z.string().nullable().meta({ description: 'Its latest successful fetch of any day (ISO)' }),
    lastError: z.string().nullable().meta({ description: 'The error of its latest failing day, if any' }),
  })
  .meta({ id: 'Product' })
export const productsResultSchema = z
  .object({
    /** Every product in the catalogue, by id. */
    products: z.array(productSchema),
  })
  .meta({ id: 'ProductsResult' })
export const productRemovedSchema = z
  .object({
    /** The id of the product removed (an unknown one is a NOT_FOUND error instead). */
    removed: z.number().int(),
  })
  .meta({ id: 'ProductRemoved' })

export const changeEventSchema = z
  .object({
    id: z.number().int().meta({ description: 'Grows with every event; resume after the last one seen' }),
    /** The product whose day changed. */
    productId: z.number().int(),
    /** The day that changed, YYYY-MM-DD, product-local. */
    date: z.string().meta({ example: '2026-12-01' }),
    fetchedAt: z.string().meta({ description: 'When the partner answered (ISO)' }),
    /** Slots in the new answer that the stored day did not have. */
    slotsAdded: z.number().int(),
    /** Slots the stored day had that the new answer does not. */
    slotsRemoved: z.number().int(),
    /** Slots in both whose own fields or pax types (places, prices) differ. */
    slotsChanged: z.number().int(),
    soldOut: z.boolean().meta({ description: 'The day went from some remaining to none' }),
  })
  .meta({ id: 'ChangeEvent' })

export const liveSchema = z.object({
  /** The process is working; false: restart it. */
  ok: z.boolean(),
  reason: z.string().optional().meta({ description: 'Why not live: the embedded database has not recovered for minutes (restart the service)' }),
})
export const readySchema = z.object({
  /** It can serve requests now (the database answers and is migrated, not shutting down). */
  ready: z.boolean(),
  /** The database answers. */
  database: z.boolean(),
  /** Every migration of this version has been applied. */
  migrations: z.boolean(),
  reason: z.string().optional().meta({ description: 'Why not ready: database unreachable, schema not migrated yet, shutting down' }),
})

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string().meta({ description: 'Names the field at fault' }),
      field: z.string().optional(),
    }),
  })
  .meta({ id: 'Error' })
