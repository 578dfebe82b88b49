import { localDate } from '../calendar/days.ts'
import type { Database } from '../db/client.ts'
import type { Logger } from '../logger.ts'
import type { Budget } from './budget.ts'
import { crunchCounts, loadCandidates, loadEarly, loadRephase, maintainHorizon, pullAheadOfCrunch, syncedTimeZones } from './claims.ts'
import type { PlanStrategy, SyncObserver } from './engine.ts'
import { cadence } from './jobs.ts'
import { planContext, pullPlan, type PlanContext, type Ranked } from './planner.ts'
import { rephaseWindows, withRephase } from './rephase.ts'
import { TIERS } from './tiers.ts'

/** Clock ms one list of early refreshes is used while nothing is due. */
const EARLY_RELIST_MS = 30_000

export interface RankerOptions {
  db: Database
  budget: Pick<Budget, 'limitPerMinute' | 'windowMs'>
  logger: Logger
  plan: PlanStrategy
  /** Clock ms between horizon upkeep runs (new days in, past days out). */
  maintenanceEveryMs: number
  /** Clock ms a ranking is used before the due pairs are listed again. */
  rankEveryMs: number
  candidateLimit: number
  spendSpareBudget: boolean
  observer?: SyncObserver
}

/**
 * The engine's two periodic jobs, both due by the engine's clock: horizon
 * upkeep (maintainHorizon, and while a crunch is ahead the pull of days
 * 8–30 and the zones for rephase) and the ranking the dispatcher sends from.
 * Upkeep runs only just before a ranking, so a ranking never reads a
 * horizon halfway through its upkeep.
 */
export interface Ranker {
  /** Ranked pairs, head first; the dispatcher drops what it sent or found taken. */
  queue: Ranked[]
  /** Whether the ranking is older than its cadence (or empty) at `now`. */
  stale(now: number): boolean
  /** When a crunch is ahead and how long the sweep before it takes (planner.ts planContext). */
  readonly context: PlanContext
  rank(now: number): Promise<void>
}

export function createRanker(o: RankerOptions): Ranker {
  const upkeep = cadence(o.maintenanceEveryMs)
  const ranking = cadence(o.rankEveryMs)
  let context: PlanContext = { sweep: false }
  // The synced products' time zones, for the rephase windows (listed with the horizon upkeep while a crunch is ahead).
  let zones: string[] = []
  // True when the queue holds early refreshes: nothing was due at the last ranking.
  let queueIsEarly = false
  let earlyListedAt = -Infinity

  const r: Ranker = {
    queue: [],
    stale: (now) => !r.queue.length || ranking.due(now),
    get context() {
      return context
    },
    async rank(now) {
      const t0 = performance.now()
      if (upkeep.due(now)) await maintain(now)
      const candidates = await loadCandidates(o.db.prisma, now, o.candidateLimit)
      const todays = new Map<string, string>()
      const todayOf = (tz: string) => todays.get(tz) ?? todays.set(tz, localDate(now, tz)).get(tz)!
      const due = withRephase(o.plan.rankDue(candidates, now, todayOf, context), await rephaseCandidates(now, todayOf))
      if (due.length || !o.spendSpareBudget) {
        r.queue = due
        queueIsEarly = false
      } else if (!queueIsEarly || !r.queue.length || now - earlyListedAt >= EARLY_RELIST_MS) {
        // Nothing due: keep sending from one list of early refreshes (the
        // claim skips any that was fetched meanwhile) instead of listing the
        // whole horizon again on every ranking.
        r.queue = (await loadEarly(o.db.prisma, now, 64)).map((c) => ({ ...c, offset: 0, tier: TIERS[0], score: 0, early: true }))
        queueIsEarly = r.queue.length > 0
        earlyListedAt = now
      }
      ranking.ran(now)
      o.observer?.pass(performance.now() - t0)
    },
  }

  async function maintain(now: number): Promise<void> {
    const m = await maintainHorizon(o.db.prisma, now)
    // Marked as run once the horizon is kept: a failure of what follows is not retried before the next interval.
    upkeep.ran(now)
    if (m.added || m.pruned) o.logger.debug(m, 'horizon maintained')
    const usablePerMinute = (o.budget.limitPerMinute * 60_000) / o.budget.windowMs
    context = planContext({ ...(await crunchCounts(o.db.prisma, now)), usablePerMinute })
    if (context.sweep) {
      const pulled = await pullAheadOfCrunch(o.db.prisma, now, pullPlan(context))
      if (pulled) o.logger.info({ pulled }, 'days 8-30 due in the crunch ahead brought forward to before it')
      if (o.plan.rankRephase) zones = await syncedTimeZones(o.db.prisma)
    }
  }

  /** Days 2–7 to fetch before they are due, at no cost in requests (rephase.ts), while a crunch is ahead. */
  async function rephaseCandidates(now: number, todayOf: (tz: string) => string): Promise<Ranked[]> {
    if (!o.plan.rankRephase || !context.sweep) return []
    const windows = rephaseWindows(now, zones, todayOf, context)
    if (!windows.size) return []
    return o.plan.rankRephase(await loadRephase(o.db.prisma, now, windows, 64), todayOf, windows)
  }

  return r
}
