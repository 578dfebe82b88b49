import { localDate } from '../calendar/days.ts'
import type { Clock } from '../clock.ts'
import type { Database } from '../db/client.ts'
import type { Logger } from '../logger.ts'
import type { FetchDayResult } from '../partner/client.ts'
import type { Budget, PermitSkip } from './budget.ts'
import {
  claimNext,
  crunchCounts,
  loadCandidates,
  loadEarly,
  loadRephase,
  maintainHorizon,
  pullAheadOfCrunch,
  releaseClaims,
  syncedTimeZones,
  type ClaimedPair,
} from './claims.ts'
import { nextDueAfterFetch, planContext, pullPlan, rankDue, type Outcome, type PlanContext, type Ranked } from './planner.ts'
import { rankRephase, rephaseWindows, withRephase } from './rephase.ts'
import { fetchDayInto, type Sent } from './worker.ts'
import { TIERS } from './tiers.ts'

/** The planner's two decisions; swappable so a benchmark can run a naive baseline through the same engine. */
export interface PlanStrategy {
  nextDueAfterFetch: typeof nextDueAfterFetch
  rankDue: typeof rankDue
  /** Days 2–7 worth fetching before they are due (rephase.ts); none when absent. */
  rankRephase?: typeof rankRephase
}
export const smartStrategy: PlanStrategy = { nextDueAfterFetch, rankDue, rankRephase }

/** Kept as a name for this module's callers. */
export type EngineLogger = Logger

/** Hooks for metrics; called synchronously, must not throw. */
export interface SyncObserver {
  partnerRequest(outcome: Outcome, latencyMs: number): void
  /** One planning pass (list and rank the due pairs). */
  pass(durationMs: number): void
  /** A write changed stored data and appended change event `eventId`. */
  changeEvent?(eventId: number): void
}

export interface SyncEngineOptions {
  db: Database
  partner: { fetchDay(productId: number, date: string, signal?: AbortSignal): Promise<FetchDayResult> }
  budget: Budget
  clock: Clock
  logger: EngineLogger
  instanceId: string
  /** Partner requests in flight at once from this instance (SYNC_MAX_IN_FLIGHT). */
  maxInFlight?: number
  /** How long a claim holds before another instance may take the pair over; must outlast a request. */
  claimTtlMs?: number
  /** Clock ms between horizon upkeep runs (new days in, past days out). */
  maintenanceEveryMs?: number
  /** How many far due rows a planning pass ranks at most. */
  candidateLimit?: number
  /** Clock ms a ranking is used before the due pairs are listed again. */
  rankEveryMs?: number
  /** Real ms the dispatcher waits before looking again when nothing is due or sync is paused. */
  idleWaitMs?: number
  /** When nothing is due, spend the window's room on refreshing pairs early (default true). */
  spendSpareBudget?: boolean
  strategy?: PlanStrategy
  observer?: SyncObserver
}

export interface PassReport {
  skipped?: PermitSkip | 'stopping' | 'in-flight'
  /** Why the step stopped sending (also when it sent some first). */
  stoppedBy?: PermitSkip | 'in-flight'
  /** Pairs due when the step ranked them (0 when only early refreshes were left). */
  due: number
  /** Of `claimed`, sent ahead of their due time with budget nothing due needed. */
  early: number
  claimed: number
  fetched: number
  changed: number
  failed: number
  budgetLeft: number
  /** When the window next has room (the budget's clock), when the step stopped for the budget or a halt. */
  nextBudgetAt?: number
}

/** idle → running → stopping → stopped: start() and stop() move it. */
export const ENGINE_STATES = ['idle', 'running', 'stopping', 'stopped'] as const
export type EngineState = (typeof ENGINE_STATES)[number]

export interface SyncEngine {
  /** Production: send continuously, each request the moment the shared window has room. */
  start(): void
  /** Stops the next send at once; in-flight fetches finish and are written; then claims are released. */
  stop(): Promise<void>
  /**
   * One deterministic step at this clock reading (tests, simulation): rank
   * afresh (`rerank`, default; else when the ranking is stale, as in
   * production), send what the window and the in-flight cap allow, and (with
   * `settle`, the default) wait until every answer is written.
   */
  runPass(opts?: { settle?: boolean; rerank?: boolean }): Promise<PassReport>
  /** Resolves when every request in flight has been answered and written. */
  settled(): Promise<void>
  readonly state: EngineState
  readonly inFlight: number
}

/** Clock ms one list of early refreshes is used while nothing is due. */
const EARLY_RELIST_MS = 30_000

export function createSyncEngine(o: SyncEngineOptions): SyncEngine {
  const maxInFlight = Math.max(1, o.maxInFlight ?? 8)
  const claimTtlMs = o.claimTtlMs ?? 120_000
  const maintenanceEveryMs = o.maintenanceEveryMs ?? 60_000
  const rankEveryMs = o.rankEveryMs ?? 5_000
  const idleWaitMs = o.idleWaitMs ?? 2_000
  const plan = o.strategy ?? smartStrategy
  const log = o.logger
  let state: EngineState = 'idle'
  let lastMaintenance = -Infinity
  let queue: Ranked[] = []
  // True when the queue holds early refreshes: nothing was due at the last ranking.
  let queueIsEarly = false
  let earlyListedAt = -Infinity
  let rankedAt = -Infinity
  const inflight = new Set<Promise<Sent>>()
  const stopping = new AbortController()
  let loop: Promise<void> | undefined
  // Counts since the last progress line.
  let progress = { sent: 0, ok: 0, failed: 0, changed: 0, since: -Infinity }

  // Whether a crunch is ahead and how long the sweep before it takes (planner.ts planContext), re-estimated with the horizon upkeep.
  let context: PlanContext = { sweep: false }
  // The synced products' time zones, for the rephase windows (listed with the horizon upkeep while a crunch is ahead).
  let zones: string[] = []
  const fetchAndWrite = (pair: ClaimedPair) => fetchDayInto(o, plan, pair, context)

  /** Sends one claimed pair; its answer is written whenever it comes, without holding up the next send. */
  function launch(pair: ClaimedPair): Promise<Sent> {
    progress.sent++
    const p = fetchAndWrite(pair).then(
      (r) => {
        if (r.ok) progress.ok++
        else progress.failed++
        if (r.changed) progress.changed++
        if (r.ok) o.db.prisma.syncControl.updateMany({ where: { id: 1 }, data: { lastSuccessAt: new Date(o.clock.now()) } }).catch(() => {})
        return r
      },
      (err: unknown) => {
        // The database failed under the write: the claim expires and the pair is fetched again.
        progress.failed++
        log.error({ productId: pair.productId, date: pair.date, err: err instanceof Error ? err.message : String(err) }, 'writing a fetched day failed')
        return { ok: false, changed: false }
      },
    )
    inflight.add(p)
    void p.finally(() => {
      inflight.delete(p)
      wake()
    })
    return p
  }

  async function rank(now: number): Promise<void> {
    const t0 = performance.now()
    if (now - lastMaintenance >= maintenanceEveryMs) {
      const m = await maintainHorizon(o.db.prisma, now)
      lastMaintenance = now
      if (m.added || m.pruned) log.debug(m, 'horizon maintained')
      const usablePerMinute = (o.budget.limitPerMinute * 60_000) / o.budget.windowMs
      context = planContext({ ...(await crunchCounts(o.db.prisma, now)), usablePerMinute })
      if (context.sweep) {
        const pulled = await pullAheadOfCrunch(o.db.prisma, now, pullPlan(context))
        if (pulled) log.info({ pulled }, 'days 8-30 due in the crunch ahead brought forward to before it')
        if (plan.rankRephase) zones = await syncedTimeZones(o.db.prisma)
      }
    }
    const candidates = await loadCandidates(o.db.prisma, now, o.candidateLimit ?? 1_000)
    const todays = new Map<string, string>()
    const todayOf = (tz: string) => todays.get(tz) ?? todays.set(tz, localDate(now, tz)).get(tz)!
    const due = withRephase(plan.rankDue(candidates, now, todayOf, context), await rephaseCandidates(now, todayOf))
    if (due.length || !(o.spendSpareBudget ?? true)) {
      queue = due
      queueIsEarly = false
    } else if (!queueIsEarly || !queue.length || now - earlyListedAt >= EARLY_RELIST_MS) {
      // Nothing due: keep sending from one list of early refreshes (the
      // claim skips any that was fetched meanwhile) instead of listing the
      // whole horizon again on every ranking.
      queue = (await loadEarly(o.db.prisma, now, 64)).map((c) => ({ ...c, offset: 0, tier: TIERS[0], score: 0, early: true }))
      queueIsEarly = queue.length > 0
      earlyListedAt = now
    }
    rankedAt = now
    o.observer?.pass(performance.now() - t0)
    reportProgress(now)
  }

  /** Days 2–7 to fetch before they are due, at no cost in requests (rephase.ts), while a crunch is ahead. */
  async function rephaseCandidates(now: number, todayOf: (tz: string) => string): Promise<Ranked[]> {
    if (!plan.rankRephase || !context.sweep) return []
    const windows = rephaseWindows(now, zones, todayOf, context)
    if (!windows.size) return []
    return plan.rankRephase(await loadRephase(o.db.prisma, now, windows, 64), todayOf, windows)
  }

  type Step =
    | { sent: true; done: Promise<Sent>; early: boolean }
    | { sent: false; retry: true }
    | { sent: false; retry?: false; skipped: PermitSkip; now: number; nextAt: number; usedInWindow: number }

  /** One send decision: the next ranked pair and a place in the shared window, taken together, now. */
  async function dispatchOne(): Promise<Step> {
    const now = o.clock.now()
    if (!queue.length || now - rankedAt >= rankEveryMs) await rank(now)
    // Nothing due still asks the budget, so a pause or halt is reported as such.
    const head = queue.slice(0, 32)
    let skippedPairs = 0
    const permit = await o.budget.permit(async (tx) => {
      // stop() may have been called while this decision waited for the lock.
      if (!head.length || stopping.signal.aborted) return undefined
      const r = await claimNext(tx, head, o.instanceId, now, claimTtlMs)
      skippedPairs = r.skipped
      return r.pair
    })
    if (permit.granted) {
      queue.splice(0, skippedPairs + 1)
      return { sent: true, done: launch(permit.granted), early: head[skippedPairs]?.early === true }
    }
    if (permit.skipped === 'idle' && head.length) {
      // All of the head was taken by others or paused meanwhile: look further.
      queue.splice(0, head.length)
      return { sent: false, retry: true }
    }
    return { sent: false, skipped: permit.skipped!, now: permit.now, nextAt: permit.nextAt, usedInWindow: permit.usedInWindow }
  }

  let wakeUp: (() => void) | undefined
  function wake() {
    wakeUp?.()
    wakeUp = undefined
  }
  /** Until an in-flight request finishes, `ms` pass (real time on the engine's clock) or stop() is called. */
  function waitForWake(ms: number): Promise<void> {
    const woken = new Promise<void>((resolve) => (wakeUp = resolve))
    return Promise.race([woken, o.clock.sleep(ms, stopping.signal)])
  }

  async function run(): Promise<void> {
    let failures = 0
    while (state === 'running') {
      if (inflight.size >= maxInFlight) {
        await waitForWake(idleWaitMs)
        continue
      }
      let step: Step
      try {
        step = await dispatchOne()
        if (failures) log.info({ after: failures }, 'sync passes succeed again')
        failures = 0
      } catch (err) {
        // Database down: back off 1 s, 2 s, 4 s … up to 30 s instead of spinning.
        failures++
        const waitMs = Math.min(30_000, 1_000 * 2 ** (failures - 1))
        log.error({ err: err instanceof Error ? err.message : String(err), failures, retryInMs: waitMs }, 'sync pass failed; backing off')
        await o.clock.sleep(waitMs, stopping.signal)
        continue
      }
      if (step.sent || step.retry) continue
      const waiting = step.skipped === 'budget' || step.skipped === 'halted' || step.skipped === 'backoff'
      const waitMs = waiting ? Math.max(1, step.nextAt - step.now) : idleWaitMs
      await waitForWake(Math.min(waitMs, 60_000))
    }
  }

  /** At most one line a minute (the first at once): what the last minute's passes planned and sent. */
  function reportProgress(now: number) {
    if (now - progress.since < 60_000) return
    const { since, ...counts } = progress
    log.info({ pass: { due: queue.length, ...counts, inFlight: inflight.size, sinceMs: Number.isFinite(since) ? now - since : 0 } }, 'sync pass')
    progress = { sent: 0, ok: 0, failed: 0, changed: 0, since: now }
  }

  async function settled(): Promise<void> {
    while (inflight.size) await Promise.allSettled([...inflight])
  }

  return {
    start() {
      if (state !== 'idle') return
      state = 'running'
      loop = run()
    },
    async stop() {
      if (state === 'stopped') return
      state = 'stopping'
      stopping.abort()
      wake()
      await loop
      await settled()
      await releaseClaims(o.db.prisma, o.instanceId).catch(() => {})
      state = 'stopped'
    },
    async runPass(opts = {}) {
      const report: PassReport = { due: 0, early: 0, claimed: 0, fetched: 0, changed: 0, failed: 0, budgetLeft: 0 }
      if (state === 'stopping' || state === 'stopped') return { ...report, skipped: 'stopping' }
      const mine: Promise<Sent>[] = []
      if (opts.rerank !== false || !queue.length || o.clock.now() - rankedAt >= rankEveryMs) await rank(o.clock.now())
      report.due = queue.filter((r) => !r.early).length
      let last: Extract<Step, { skipped: PermitSkip }> | undefined
      for (;;) {
        if (stopping.signal.aborted) break
        if (inflight.size >= maxInFlight) {
          if (opts.settle === false) {
            report.skipped = report.stoppedBy = 'in-flight'
            break
          }
          await Promise.race(inflight)
          continue
        }
        const step = await dispatchOne()
        if (step.sent) {
          report.claimed++
          if (step.early) report.early++
          mine.push(step.done)
        }
        if (step.sent || step.retry) continue
        last = step
        break
      }
      if (last) {
        report.budgetLeft = Math.max(0, o.budget.limitPerMinute - last.usedInWindow)
        report.nextBudgetAt = last.nextAt
        report.stoppedBy = last.skipped
        if (!report.claimed) report.skipped = last.skipped
      }
      if (opts.settle !== false) {
        for (const r of await Promise.all(mine)) {
          if (r.ok) report.fetched++
          else report.failed++
          if (r.changed) report.changed++
        }
      }
      log.debug({ pass: report }, 'sync step')
      return report
    },
    settled,
    get state() {
      return state
    },
    get inFlight() {
      return inflight.size
    },
  }
}
