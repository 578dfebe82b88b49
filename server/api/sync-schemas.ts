import { z } from 'zod'
import { TIER_NAMES } from '../sync/tiers.ts'

/**
 * What sync control answers (pause, resume, run, status), for tRPC, REST and
 * the OpenAPI document alike; inputs and the other answers are in
 * schemas.ts, whose rules for field docs hold here too.
 */

export const syncStateSchema = z
  .object({
    /** Whether what was acted on (`productId`, else sync as a whole) is paused now. */
    paused: z.boolean(),
    /** The product acted on; absent when the call was about sync as a whole. */
    productId: z.number().int().optional(),
    /** When that pause state last changed (ISO). */
    changedAt: z.string(),
    pausedProducts: z.array(z.number().int()).meta({ description: 'Products paused on their own while sync as a whole runs' }),
    haltedUntil: z.string().nullable().meta({ description: "A partner 429's halt still in force; a global resume lifts it" }),
  })
  .meta({ id: 'SyncState' })

// Every tier is always present, so the key is the closed set of names, not any string.

export const tierCountsSchema = z.object({
  /** (product, day) pairs in the tier. */
  total: z.number().int(),
  /** Pairs whose stored answer is within the tier's target age. */
  fresh: z.number().int(),
  /** Pairs older than the target, up to twice it, and pairs never fetched (waiting for their first fetch). */
  due: z.number().int(),
  /** Pairs older than twice the target. */
  overdue: z.number().int(),
  oldestFetchedAt: z.string().nullable().meta({ description: "The oldest successful fetch among the tier's days (null: none fetched yet)" }),
})

export const domainSyncStatusSchema = z
  .object({
    /** Sync as a whole is paused (products paused on their own: `pausedProducts`). */
    paused: z.boolean(),
    /** Products paused on their own. */
    pausedProducts: z.array(z.number().int()),
    /** The engine runs on this instance and sync is not paused. */
    running: z.boolean(),
    queue: z.number().int().meta({ description: '(product, date) pairs the engine will still fetch: due now, queued by run, or in flight until written' }),
    /** (product, date) pairs sent to the partner (claimed) and not yet written. */
    inFlight: z.number().int(),
    queued: z.number().int().meta({ description: '(product, date) pairs queued by run and not yet fetched' }),
    neverFetched: z.number().int().meta({ description: '(product, date) pairs in the horizon never fetched yet' }),
    tiers: z.record(z.string(), tierCountsSchema),
    run: z
      .object({
        /** Pairs queued by run and not yet fetched (as `queued`). */
        queued: z.number().int(),
        /** When they should all be fetched (ISO); null when none is queued. */
        etaAt: z.string().nullable(),
      })
      .meta({ description: 'A "run now" backlog: pairs left and when they should all be fetched, at the budget today\'s days leave' }),
    /** The partner's request budget, shared by every instance. */
    budget: z.object({
      /** Requests the partner allows per minute (PARTNER_RATE_LIMIT_PER_MINUTE). */
      limitPerMinute: z.number().int(),
      /** Requests sent in the last minute (the sliding window the limit applies to). */
      usedLastMinute: z.number().int(),
      /** `limitPerMinute` − `usedLastMinute`, at least 0. */
      leftThisMinute: z.number().int(),
      /** Requests sent since midnight in the service's time zone. */
      usedToday: z.number().int(),
      /** What the limit allows over a whole day, less `usedToday`, at least 0. */
      leftToday: z.number().int(),
      /** Until when a partner 429 stops every request (ISO); null when none is in force. */
      haltedUntil: z.string().nullable(),
    }),
    /** The latest successful fetch of any (product, date) pair (ISO); null if none yet. */
    lastSuccessAt: z.string().nullable(),
    /** The latest failed fetch: when (ISO) and why; null if none. */
    lastError: z
      .object({
        /** When it failed (ISO). */
        at: z.string(),
        /** What went wrong. */
        message: z.string(),
      })
      .nullable(),
    oldestServedFetchedAt: z
      .string()
      .nullable()
      .meta({ description: 'The oldest successful fetch among the days served; days never fetched are not in it: read it with `neverFetched`' }),
    /** The catalogue's products. */
    products: z.object({
      /** Products in the catalogue, synced unless paused (paused ones included). */
      active: z.number().int(),
      /** Of those, the ones paused on their own. */
      paused: z.number().int(),
    }),
    failingProducts: z
      .array(
        z.object({
          /** The product. */
          productId: z.number().int(),
          /** Its days whose latest fetch failed. */
          failingDays: z.number().int(),
          /** Its latest successful fetch of any day (ISO); null if none. */
          lastSuccessAt: z.string().nullable(),
          /** The error of its latest failed fetch. */
          lastError: z.string().nullable(),
          /** When that fetch failed (ISO). */
          lastErrorAt: z.string().nullable(),
        }),
      )
      .meta({ description: 'Products whose latest fetch of some day failed (at most 50, most recent first), with their last success and last error' }),
    partner: z
      .object({
        /** The partner API's host name (no path, no credentials). */
        host: z.string(),
        /** The partner is slotsync's built-in sandbox, not the real one. */
        sandbox: z.boolean(),
        /** `ok`, or `backing-off` after persistent failures. */
        state: z.enum(['ok', 'backing-off']),
        /** Partner requests that failed in a row since its last answer. */
        consecutiveFailures: z.number().int(),
        /** While backing off: when the next probe goes out (ISO); else null. */
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

export const runResultSchema = z
  .object({
    /** (product, date) pairs this call queued at top priority. */
    queued: z.number().int(),
  })
  .meta({ id: 'RunResult' })
