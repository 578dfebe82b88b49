import { z } from 'zod'
import { FRESHNESS_STATES, LIVE_RESULTS } from '../availability/freshness.ts'
import { isValidDate } from '../calendar/days.ts'
import { parseEventId } from '../changes/event.ts'
import { isValidTimeZone } from '../config.ts'
import { ERROR_CODES } from '../errors.ts'
import { TIER_NAMES } from '../sync/tiers.ts'

/**
 * The zod schemas both faces share: tRPC validates inputs with them, the REST
 * routes hand the same inputs to the same procedures, and the OpenAPI
 * document is generated from them. The view types in services.ts are
 * inferred from the output schemas, so docs and code cannot disagree.
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
      productIds: productIdListSchema.optional(),
      lastEventId: eventIdSchema.optional(),
    },
    { error: NOT_AN_OBJECT },
  )
  .optional()

// ---- outputs -------------------------------------------------------------

export const priceSchema = z
  .object({
    finalPrice: z.number().meta({ example: 242.14 }),
    currencyCode: z.string().meta({ example: 'SGD' }),
    originalPrice: z.number().meta({ example: 242.14 }),
  })
  .meta({ id: 'Price', description: 'Money as JSON numbers with at most two decimals' })

export const paxSchema = z
  .object({
    type: z.string().meta({ example: 'ADULT_12~99' }),
    name: z.string(),
    description: z.string(),
    price: priceSchema,
    min: z.number().int(),
    max: z.number().int(),
    remaining: z.number().int(),
    isPrimary: z.boolean().meta({ description: 'Flagged primary by the partner' }),
  })
  .meta({ id: 'PaxAvailability' })

export const slotSchema = z
  .object({
    startTime: z.string().meta({ example: '04:00', description: 'HH:mm, product-local' }),
    startDate: z.string().meta({ example: '2026-12-01' }),
    endTime: z.string(),
    providerSlotId: z.string(),
    price: priceSchema.nullable().meta({ description: "The primary pax type's price; null for a slot without pax types" }),
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

export const slotsResultSchema = z.object({ slots: z.array(slotSchema), freshness: freshnessSchema }).meta({ id: 'SlotsResult' })

export const datesResultSchema = z
  .object({
    dates: z.array(z.object({ date: z.string().meta({ example: '2026-12-01' }), price: priceSchema })),
    pending: z
      .array(z.string().meta({ example: '2026-12-09' }))
      .meta({ description: 'Days of the horizon never fetched yet, ascending: absent from `dates` because unknown, not because closed' }),
    oldestFetchedAt: z.string().nullable().meta({ description: 'Oldest fetch (ISO) among the fetched days of the horizon; null when none was' }),
  })
  .meta({ id: 'DatesResult', description: 'Days from today to today + 59 with a slot left; price = lowest slot price that day' })

export const syncStateSchema = z
  .object({
    paused: z.boolean(),
    productId: z.number().int().optional(),
    changedAt: z.string(),
    pausedProducts: z.array(z.number().int()).meta({ description: 'Products paused on their own while sync as a whole runs' }),
    haltedUntil: z.string().nullable().meta({ description: "A partner 429's halt still in force; a global resume lifts it" }),
  })
  .meta({ id: 'SyncState' })

// Every tier is always present, so the key is the closed set of names, not any string.

export const tierCountsSchema = z.object({
  total: z.number().int(),
  fresh: z.number().int(),
  due: z.number().int(),
  overdue: z.number().int(),
  oldestFetchedAt: z.string().nullable().meta({ description: "The oldest successful fetch among the tier's days (null: none fetched yet)" }),
})

export const domainSyncStatusSchema = z
  .object({
    paused: z.boolean(),
    pausedProducts: z.array(z.number().int()),
    running: z.boolean(),
    queue: z.number().int().meta({ description: '(product, date) pairs the engine will still fetch: due now, queued by run, or in flight until written' }),
    inFlight: z.number().int(),
    queued: z.number().int().meta({ description: '(product, date) pairs queued by run and not yet fetched' }),
    neverFetched: z.number().int().meta({ description: '(product, date) pairs in the horizon never fetched yet' }),
    tiers: z.record(z.string(), tierCountsSchema),
    run: z
      .object({ queued: z.number().int(), etaAt: z.string().nullable() })
      .meta({ description: 'A "run now" backlog: pairs left and when they should all be fetched, at the budget today\'s days leave' }),
    budget: z.object({
      limitPerMinute: z.number().int(),
      usedLastMinute: z.number().int(),
      leftThisMinute: z.number().int(),
      usedToday: z.number().int(),
      leftToday: z.number().int(),
      haltedUntil: z.string().nullable(),
    }),
    lastSuccessAt: z.string().nullable(),
    lastError: z.object({ at: z.string(), message: z.string() }).nullable(),
    oldestServedFetchedAt: z
      .string()
      .nullable()
      .meta({ description: 'The oldest successful fetch among the days served; days never fetched are not in it: read it with `neverFetched`' }),
    products: z.object({ active: z.number().int(), paused: z.number().int() }),
    failingProducts: z
      .array(
        z.object({
          productId: z.number().int(),
          failingDays: z.number().int(),
          lastSuccessAt: z.string().nullable(),
          lastError: z.string().nullable(),
          lastErrorAt: z.string().nullable(),
        }),
      )
      .meta({ description: 'Products whose latest fetch of some day failed (at most 50, most recent first), with their last success and last error' }),
    partner: z
      .object({
        host: z.string(),
        sandbox: z.boolean(),
        state: z.enum(['ok', 'backing-off']),
        consecutiveFailures: z.number().int(),
        nextProbeAt: z.string().nullable(),
      })
      .meta({ description: 'The partner, host only; `backing-off` after persistent failures: one probe per interval until it answers' }),
  })
  .meta({ description: 'What the sync domain answers (server/sync/types.ts); the API adds `firstPass` (syncStatusSchema)' })

export const firstPassSchema = z
  .object({
    pairs: z.number().int().meta({ description: '(product, day) pairs of the horizon' }),
    fetched: z.number().int().meta({ description: 'Pairs fetched at least once' }),
    neverFetched: z.number().int().meta({ description: 'Pairs never fetched yet (the first pass is done at 0)' }),
    perMinute: z.number().meta({
      description: 'Pairs fetched for the first time per minute, as used for `etaAt`: observed over the last minutes, else from the partner budget',
    }),
    pace: z.enum(['observed', 'budget']).meta({ description: 'Where `perMinute` comes from' }),
    etaAt: z
      .string()
      .nullable()
      .meta({ description: 'When every pair should have been fetched once at that pace (ISO); null when done, paused or not advancing' }),
  })
  .meta({ id: 'FirstPass', description: 'The first pass: every (product, day) pair of the horizon fetched once, and when it should end' })

export const syncStatusSchema = domainSyncStatusSchema
  .extend({
    // Every tier is always present, so the key is the closed set of names, not any string.
    tiers: z
      .record(z.enum(TIER_NAMES), tierCountsSchema)
      .meta({ description: 'Pair counts per freshness tier, each against its own target age (the tiers’ day ranges and targets: sync.freshness `tiers`)' }),
    firstPass: firstPassSchema,
  })
  .meta({ id: 'SyncStatus' })

export const runResultSchema = z.object({ queued: z.number().int() }).meta({ id: 'RunResult' })

export const productSchema = z
  .object({
    id: z.number().int().meta({ example: 14 }),
    timeZone: z.string().meta({ example: 'Asia/Singapore' }),
    paused: z.boolean(),
    addedAt: z.string().meta({ description: 'When the product was added (ISO)' }),
    lastSuccessAt: z.string().nullable().meta({ description: 'Its latest successful fetch of any day (ISO)' }),
    lastError: z.string().nullable().meta({ description: 'The error of its latest failing day, if any' }),
  })
  .meta({ id: 'Product' })
export const productsResultSchema = z.object({ products: z.array(productSchema) }).meta({ id: 'ProductsResult' })
export const productRemovedSchema = z.object({ removed: z.number().int() }).meta({ id: 'ProductRemoved' })

export const changeEventSchema = z
  .object({
    id: z.number().int().meta({ description: 'Grows with every event; resume after the last one seen' }),
    productId: z.number().int(),
    date: z.string().meta({ example: '2026-12-01' }),
    fetchedAt: z.string().meta({ description: 'When the partner answered (ISO)' }),
    slotsAdded: z.number().int(),
    slotsRemoved: z.number().int(),
    slotsChanged: z.number().int(),
    soldOut: z.boolean().meta({ description: 'The day went from some remaining to none' }),
  })
  .meta({ id: 'ChangeEvent' })

export const liveSchema = z.object({
  ok: z.boolean(),
  reason: z.string().optional().meta({ description: 'Why not live: the embedded database has not recovered for minutes (restart the service)' }),
})
export const readySchema = z.object({
  ready: z.boolean(),
  database: z.boolean(),
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
