import { z } from 'zod'
import { EXPLAIN_REASONS, type Explanation } from '../sync/policy/explain.ts'
import { FRESHNESS_CLASSES, TIER_NAMES } from '../sync/tiers.ts'

/**
 * Outputs of the read-only sync procedures the dashboard draws (any client
 * may call them): the freshness grid and the partner budget's last hour.
 */

export const freshnessGridSchema = z
  .object({
    at: z.string().meta({ description: 'Server time the grid was read (ISO); ages are relative to it' }),
    days: z.number().int().meta({ description: 'Columns per product: today and the following days, each in the product’s time zone' }),
    tiers: z
      .array(
        z.object({
          /** The tier's name (`today`, `week`, `month`, `horizon`). */
          name: z.string(),
          /** Its first day offset (0 = today). */
          fromOffset: z.number().int(),
          /** Its last day offset, included. */
          toOffset: z.number().int(),
          /** The age its days' stored answers should stay within, in seconds. */
          targetSeconds: z.number().int(),
        }),
      )
      .meta({ description: 'Freshness tiers by day offset, with the age each should stay within' }),
    /** One row per active product, by id. */
    products: z.array(
      z.object({
        /** The product. */
        productId: z.number().int(),
        /** Paused on its own (sync as a whole: `sync.status`). */
        paused: z.boolean(),
        today: z.string().meta({ example: '2026-12-01', description: 'Day offset 0 in the product’s time zone (YYYY-MM-DD)' }),
        fetchedAt: z.array(z.string().nullable()).meta({ description: 'Per day offset (0 = today): last successful fetch (ISO), null if never' }),
        state: z.array(z.enum(FRESHNESS_CLASSES)).meta({
          description:
            'Per day offset: fresh (age within its tier’s target at `at`), due (older, up to twice the target), overdue (older still), never; the classes sync status counts',
        }),
        failing: z.array(z.number().int()).meta({ description: 'Day offsets whose latest fetch failed' }),
      }),
    ),
  })
  .meta({ id: 'FreshnessGrid' })

export const budgetHistorySchema = z
  .object({
    /** Server time the history was read (ISO). */
    at: z.string(),
    minutes: z
      .array(
        z.object({
          at: z.string().meta({ description: 'Start of the minute (ISO)' }),
          /** Partner requests sent in that minute, by every instance. */
          requests: z.number().int(),
        }),
      )
      .meta({ description: 'Partner requests sent per minute over the last 60 minutes, oldest first; the last minute is the current one, still filling' }),
  })
  .meta({ id: 'BudgetHistory' })

const isoTime = z.string().nullable()

export const explainQuerySchema = z.object({
  // The doc comments are the SDK's (tRPC passes a number); the descriptions, REST's query.
  /** The product id. */
  productId: z.coerce.number().int().min(1).max(2_147_483_647).meta({ description: 'The product id' }),
  date: z.string().meta({ description: 'A day of the horizon, YYYY-MM-DD in the product’s time zone' }),
})

export const explanationSchema = z
  .object({
    /** The product asked about. */
    productId: z.number().int(),
    /** The day asked about, YYYY-MM-DD, product-local. */
    date: z.string(),
    tier: z.enum(TIER_NAMES).nullable().meta({ description: 'The tier the day is in now, by its offset in its product’s calendar' }),
    servedAs: z.enum(TIER_NAMES).nullable().meta({
      description:
        'The tier whose turns it takes: the one it is in when its stored answer goes stale; a re-check of a day with nothing on sale, the next slower tier (a weekday known closed, two slower)',
    }),
    /** Its latest successful fetch (ISO); null if never. */
    lastFetchedAt: isoTime,
    /** How its latest fetch went: `ok`, `empty` (no slot), `invalid` (an answer that broke the partner contract), `error`, `rate_limited`; null if never tried. */
    lastOutcome: z.string().nullable(),
    /** The error of its latest fetch, if that failed. */
    lastError: z.string().nullable(),
    dueAt: isoTime.meta({ description: 'When it is next sent: the plan’s turn for it, or its timed due time; null while paused or beyond the plan' }),
    staleAt: isoTime.meta({ description: 'Planned days: when the stored answer goes stale' }),
    reason: z.enum(EXPLAIN_REASONS).meta({
      description:
        'plan: the plan’s turn in its tier (`slice`); never: never fetched, planned; run: "run now"; backoff / rate_limited: after a failure; empty / closed: a re-check of a day seen empty or a known-closed weekday; cutoff: today after its last slot; paused; in-flight; outside the horizon; live: last fetched by a live check (detail: when, and what follows)',
    }),
    slice: z
      .object({
        /** The slice's start (ISO). */
        from: z.string(),
        /** Its end (ISO), excluded. */
        to: z.string(),
      })
      .nullable()
      .meta({ description: 'The plan’s time slice the turn falls in' }),
    rank: z.number().int().nullable().meta({ description: 'Its place (1-based) in its tier’s order of turns: stale days most read first, then by staleness' }),
    demand: z.number().min(0).meta({
      description: 'Reads of the day counted by every instance, each halving after a day (a read of n days counts 1/n each); orders the day within its tier',
    }),
    /** `reason` in a sentence, for a person. */
    detail: z.string(),
  })
  .meta({ id: 'Explanation' })

export type FreshnessGrid = z.infer<typeof freshnessGridSchema>
export type BudgetHistory = z.infer<typeof budgetHistorySchema>

export interface SyncReadService {
  /** Active products × today and the next 13 days: when each day was last fetched. */
  freshness(): Promise<FreshnessGrid>
  /** Partner requests per minute, last 60 minutes, from the shared request log. */
  budgetHistory(): Promise<BudgetHistory>
  /** Why one (product, date) is where it is (sync/explain.ts). */
  explain(productId: number, date: string): Promise<ExplanationView>
}

export type ExplanationView = z.infer<typeof explanationSchema>

const explanationsAgree: z.infer<typeof explanationSchema> extends Explanation
  ? Explanation extends z.infer<typeof explanationSchema>
    ? true
    : false
  : false = true
void explanationsAgree
