import { localDate } from '../calendar/days.ts'
import type { Database } from '../db/client.ts'
import type { Logger } from '../logger.ts'
import { usablePerMinute, type Budget } from './budget.ts'
import { loadCandidates, maintainHorizon } from './claims.ts'
import type { ReadCounter } from './demand.ts'
import type { PlanStrategy, SyncObserver } from './engine.ts'
import { cadence } from './jobs.ts'
import { planFromDatabase } from './plan-counts.ts'
import { PLANNED_TIERS, plannedBy, type Plan, type PlannedTier } from './policy/plan.ts'
import type { Ranked } from './policy/rank.ts'

export interface RankerOptions {
  db: Database
  budget: Pick<Budget, 'limitPerMinute' | 'windowMs' | 'liveShare'>
  logger: Logger
  plan: PlanStrategy
  /** Clock ms between horizon upkeep runs (new days in, past days out), each followed by a new plan. */
  maintenanceEveryMs: number
  /** Clock ms a ranking is used before the pairs are listed again. */
  rankEveryMs: number
  /** At least this many pairs of each planned tier are ranked (more when the plan sends more before the next ranking). */
  candidateLimit: number
  observer?: SyncObserver
  /** This instance's read counts: flushed before a ranking once a minute has passed, so the ranking sees them. */
  demand?: Pick<ReadCounter, 'flushIfDue'>
}

/**
 * The engine's periodic work, due by the engine's clock: horizon upkeep
 * and a new plan (policy/plan.ts) from the counts it leaves, then the
 * ranking the dispatcher sends from (policy/rank.ts). Upkeep runs only just
 * before a ranking, so a ranking never reads a horizon halfway through it.
 */
export interface Ranker {
  /** Ranked pairs, head first; the dispatcher drops what it sent or found taken. */
  queue: Ranked[]
  /** Whether the ranking is older than its cadence (or empty) at `now`. */
  stale(now: number): boolean
  /** The plan the ranking follows (undefined before the first). */
  readonly plan: Plan | undefined
  rank(now: number): Promise<void>
  /** Plan again at the next ranking (a product added or removed, a pause, a resume, a 429's halt). */
  replanSoon(): void
  /** A ranked pair was sent: its tier's next turn is the plan's next request. */
  sent(r: Ranked): void
}

export function createRanker(o: RankerOptions): Ranker {
  const upkeep = cadence(o.maintenanceEveryMs)
  const ranking = cadence(o.rankEveryMs)
  let plan: Plan | undefined
  // Requests sent per planned tier since the plan was made.
  let sent: Record<PlannedTier, number> = { week: 0, month: 0, horizon: 0 }

  const r: Ranker = {
    queue: [],
    stale: (now) => !r.queue.length || ranking.due(now),
    get plan() {
      return plan
    },
    replanSoon() {
      upkeep.ran(Number.NEGATIVE_INFINITY)
    },
    sent(r) {
      const t = r.tier.name
      // A refresh only a day's readers earned is beyond the plan: the tier's turns stay where they were.
      if (t !== 'today' && r.forcedAt === null && !r.extra) sent[t] += 1
    },
    async rank(now) {
      const t0 = performance.now()
      if (upkeep.due(now)) await maintain(now)
      await o.demand?.flushIfDue()
      const candidates = await loadCandidates(o.db.prisma, now, limits(now))
      const todays = new Map<string, string>()
      const todayOf = (tz: string) => todays.get(tz) ?? todays.set(tz, localDate(now, tz)).get(tz)!
      r.queue = o.plan.rank(candidates, plan, now, todayOf, sent)
      ranking.ran(now)
      o.observer?.pass(performance.now() - t0)
    },
  }

  /** Per planned tier, how many to rank: what the plan sends until a ranking after next, and a margin for pairs taken meanwhile. */
  function limits(now: number): Record<PlannedTier, number> {
    const ahead = now + 2 * o.rankEveryMs + 60_000
    return Object.fromEntries(
      PLANNED_TIERS.map((t) => [t, o.candidateLimit + (plan ? Math.ceil(plannedBy(plan, t, ahead) - plannedBy(plan, t, now)) : 0)]),
    ) as Record<PlannedTier, number>
  }

  async function maintain(now: number): Promise<void> {
    const m = await maintainHorizon(o.db.prisma, now)
    // Marked as run once the horizon is kept: a failure of what follows is not retried before the next interval.
    upkeep.ran(now)
    if (m.added || m.pruned) o.logger.debug(m, 'horizon maintained')
    const t0 = performance.now()
    const lane = { limit: o.budget.limitPerMinute, share: o.budget.liveShare, windowMs: o.budget.windowMs }
    plan = await planFromDatabase(o.db.prisma, now, usablePerMinute(o.budget), lane)
    sent = { week: 0, month: 0, horizon: 0 }
    o.logger.debug({ ms: Math.round(performance.now() - t0) }, 'planned')
  }

  return r
}
