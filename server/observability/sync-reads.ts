import type { BudgetHistory, FreshnessGrid, SyncReadService } from '../api/sync-read-schemas.ts'
import type { Clock } from '../clock.ts'
import type { PrismaClient } from '../db/client.ts'
import { usablePerMinute } from '../sync/budget.ts'
import { createExplain, type ExplainOptions } from '../sync/explain.ts'
import { freshnessClass, TIERS } from '../sync/tiers.ts'

export const GRID_DAYS = 14
export const HISTORY_MINUTES = 60
const MINUTE_MS = 60_000

/**
 * The dashboard's two reads beyond sync status, one query each: the
 * freshness grid (primary-key range per product) and the budget's last hour
 * (the partner_request log's sent_at index).
 */
export function createSyncReads(o: { prisma: PrismaClient; clock: Clock } & Partial<Pick<ExplainOptions, 'plan' | 'perMinute'>>): SyncReadService {
  return {
    // Without the partner rate given, the default key's (30 a minute over a 61 s window).
    explain: createExplain({
      prisma: o.prisma,
      clock: o.clock,
      plan: o.plan,
      perMinute: o.perMinute ?? usablePerMinute({ limitPerMinute: 30, windowMs: 61_000 }),
    }),
    async freshness(): Promise<FreshnessGrid> {
      const at = new Date(o.clock.now())
      // LEFT JOIN: a product added a moment ago has no days yet and still gets a row.
      const rows = await o.prisma.$queryRaw<
        { id: number; paused: boolean; today: string; off: number | null; fetched: Date | null; cutoff: Date | null; failing: boolean | null }[]
      >`
        SELECT p.id, p.paused, (${at}::timestamptz AT TIME ZONE p.time_zone)::date::text AS today, f.date - (${at}::timestamptz AT TIME ZONE p.time_zone)::date AS off,
               f.last_fetched_at AS fetched, (f.date + f.last_slot_start::time) AT TIME ZONE p.time_zone AS cutoff,
               f.consecutive_failures > 0 AS failing
        FROM product p
        LEFT JOIN day_fetch_state f ON f.product_id = p.id
          AND f.date BETWEEN (${at}::timestamptz AT TIME ZONE p.time_zone)::date AND (${at}::timestamptz AT TIME ZONE p.time_zone)::date + ${GRID_DAYS - 1}::int
        WHERE p.active ORDER BY p.id`
      const products: FreshnessGrid['products'] = []
      for (const r of rows) {
        let p = products.at(-1)
        if (p?.productId !== r.id) {
          p = {
            productId: r.id,
            paused: r.paused,
            today: r.today,
            fetchedAt: Array<string | null>(GRID_DAYS).fill(null),
            state: Array.from({ length: GRID_DAYS }, () => 'never' as const),
            failing: [],
          }
          products.push(p)
        }
        if (r.off === null) continue
        p.fetchedAt[r.off] = r.fetched?.toISOString() ?? null
        // Classed here, by the rule status counts with, so the grid and the tier table cannot disagree.
        p.state[r.off] = freshnessClass(r.fetched?.getTime() ?? null, r.off, at.getTime(), r.cutoff?.getTime())
        if (r.failing) p.failing.push(r.off)
      }
      return {
        at: at.toISOString(),
        days: GRID_DAYS,
        tiers: TIERS.map((t) => ({ name: t.name, fromOffset: t.fromOffset, toOffset: t.toOffset, targetSeconds: t.targetMs / 1000 })),
        products,
      }
    },

    async budgetHistory(): Promise<BudgetHistory> {
      const now = o.clock.now()
      const first = Math.floor(now / MINUTE_MS) - (HISTORY_MINUTES - 1)
      const rows = await o.prisma.$queryRaw<{ m: bigint; n: number }[]>`
        SELECT floor(extract(epoch FROM sent_at) / 60)::bigint AS m, count(*)::int AS n
        FROM partner_request WHERE sent_at >= ${new Date(first * MINUTE_MS)} AND sent_at <= ${new Date(now)} GROUP BY 1`
      const byMinute = new Map(rows.map((r) => [Number(r.m), r.n]))
      return {
        at: new Date(now).toISOString(),
        minutes: Array.from({ length: HISTORY_MINUTES }, (_, i) => ({
          at: new Date((first + i) * MINUTE_MS).toISOString(),
          requests: byMinute.get(first + i) ?? 0,
        })),
      }
    },
  }
}
