import { z } from 'zod'
import { FRESHNESS_CLASSES } from '../sync/tiers.ts'

/**
 * Outputs of the read-only sync procedures the dashboard draws (any client
 * may call them): the freshness grid and the partner budget's last hour.
 */

export const freshnessGridSchema = z
  .object({
    at: z.string().meta({ description: 'Server time the grid was read (ISO); ages are relative to it' }),
    days: z.number().int().meta({ description: 'Columns per product: today and the following days, each in the product’s time zone' }),
    tiers: z
      .array(z.object({ name: z.string(), fromOffset: z.number().int(), toOffset: z.number().int(), targetSeconds: z.number().int() }))
      .meta({ description: 'Freshness tiers by day offset, with the age each should stay within' }),
    products: z.array(
      z.object({
        productId: z.number().int(),
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
    at: z.string(),
    minutes: z
      .array(z.object({ at: z.string().meta({ description: 'Start of the minute (ISO)' }), requests: z.number().int() }))
      .meta({ description: 'Partner requests sent per minute over the last 60 minutes, oldest first; the last minute is the current one, still filling' }),
  })
  .meta({ id: 'BudgetHistory' })

export type FreshnessGrid = z.infer<typeof freshnessGridSchema>
export type BudgetHistory = z.infer<typeof budgetHistorySchema>

export interface SyncReadService {
  /** Active products × today and the next 13 days: when each day was last fetched. */
  freshness(): Promise<FreshnessGrid>
  /** Partner requests per minute, last 60 minutes, from the shared request log. */
  budgetHistory(): Promise<BudgetHistory>
}
