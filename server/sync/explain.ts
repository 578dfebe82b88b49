import { checkDateInHorizon, horizonAt } from '../calendar/horizon.ts'
import type { Clock } from '../clock.ts'
import type { PrismaClient } from '../db/client.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import { stalenessPosition } from './claims.ts'
import { demandOf } from './demand.ts'
import { planFromDatabase } from './plan-counts.ts'
import type { DueReason } from './policy/deadline.ts'
import { explainPair, type Explanation } from './policy/explain.ts'
import type { Plan } from './policy/plan.ts'

export interface ExplainOptions {
  prisma: PrismaClient
  clock: Clock
  /** The plan this instance's engine follows (undefined where no engine runs, or before its first). */
  plan?: () => Plan | undefined
  /** The usable partner rate, to plan with where no engine plan is at hand. */
  perMinute: number
}

/** One plan at most per this long when no engine plan is at hand: an explain is a public read. */
const OWN_PLAN_TTL_MS = 60_000

/** `sync/explain`: the row of one (product, date), its place in its tier's order, and the plan's reading of it. */
export function createExplain(o: ExplainOptions): (productId: number, date: string) => Promise<Explanation> {
  let own: { plan: Plan; at: number } | undefined
  async function currentPlan(now: number): Promise<Plan> {
    const engine = o.plan?.()
    if (engine) return engine
    if (!own || now - own.at >= OWN_PLAN_TTL_MS) own = { plan: await planFromDatabase(o.prisma, now, o.perMinute), at: now }
    return own.plan
  }
  return async (productId, date) => {
    const now = o.clock.now()
    const product = await o.prisma.product.findUnique({ where: { id: productId }, select: { timeZone: true, active: true, paused: true } })
    if (!product?.active) throw new NotFoundError(`product ${productId} is not known to slotsync`)
    const h = horizonAt(now, product.timeZone)
    const check = checkDateInHorizon(date, h)
    if (!check.ok) {
      throw new BadRequestError(
        'date',
        check.reason === 'past' || check.reason === 'beyond'
          ? `${date} is outside the served horizon ${h.today}..${h.last}`
          : 'must be a real date written YYYY-MM-DD',
      )
    }
    const control = await o.prisma.syncControl.findUnique({ where: { id: 1 }, select: { paused: true } })
    const row = await o.prisma.dayFetchState.findUnique({ where: { productId_date: { productId, date: new Date(`${date}T00:00:00Z`) } } })
    const [plan, position, demand] = await Promise.all([
      currentPlan(now),
      stalenessPosition(o.prisma, now, productId, date),
      demandOf(o.prisma, productId, date, now),
    ])
    return explainPair(
      {
        productId,
        date,
        timeZone: product.timeZone,
        synced: !product.paused && !control?.paused,
        nextDueAt: row?.nextDueAt.getTime() ?? now,
        reason: (row?.dueReason ?? 'never') as DueReason,
        forcedAt: row?.forcedAt?.getTime() ?? null,
        claimedUntil: row?.claimedUntil?.getTime() ?? null,
        lastFetchedAt: row?.lastFetchedAt?.getTime() ?? null,
        lastOutcome: row?.lastOutcome ?? null,
        lastError: row?.lastError ?? null,
        demand,
        fetchedLive: row?.fetchedLive ?? false,
      },
      plan,
      now,
      position,
    )
  }
}
