import pLimit from 'p-limit'
import type pg from 'pg'
import { ToadScheduler, SimpleIntervalJob, AsyncTask } from 'toad-scheduler'
import { localDate, weekday } from '../calendar/days.ts'
import type { Clock } from '../clock.ts'
import type { FetchDayResult } from '../partner/client.ts'
import type { Budget } from './budget.ts'
import { claimPairs, loadCandidates, maintainHorizon, releaseClaim, releaseClaims, weekdayStats, type ClaimedPair } from './claims.ts'
import { isWeekdayClosed, nextDueAfterFetch, rankDue, type Outcome } from './planner.ts'

/** The planner's two decisions; swappable so a benchmark can run a naive baseline through the same engine. */
export interface PlanStrategy {
  nextDueAfterFetch: typeof nextDueAfterFetch
  rankDue: typeof rankDue
}
export const smartStrategy: PlanStrategy = { nextDueAfterFetch, rankDue }
import { summarize } from './mapping.ts'
import { recordFetchFailure, writeDaySnapshot } from './snapshot.ts'
import { readControl } from './control-state.ts'
import type { Logger } from '../logger.ts'

/** Kept as a name for this module's callers. */
export type EngineLogger = Logger

export interface SyncEngineOptions {
  pool: pg.Pool
  partner: { fetchDay(productId: number, date: string, signal?: AbortSignal): Promise<FetchDayResult>; haltedUntil(): number }
  budget: Budget
  clock: Clock
  logger: EngineLogger
  instanceId: string
  /** Most pairs one pass takes. */
  batchSize?: number
  /** Requests in flight at once within a pass. */
  concurrency?: number
  /** How long a claim holds before another instance may take the pair over. */
  claimTtlMs?: number
  /** Real milliseconds between passes when started with start(). */
  tickMs?: number
  /** Clock ms between horizon upkeep runs (new days in, past days out). */
  maintenanceEveryMs?: number
  /** How many due rows a pass ranks at most. */
  candidateLimit?: number
  strategy?: PlanStrategy
}

export interface PassReport {
  skipped?: 'paused' | 'stopping' | 'halted' | 'budget' | 'idle'
  due: number
  claimed: number
  fetched: number
  changed: number
  failed: number
  budgetLeft: number
  nextBudgetAt?: number
}

/** idle → running → stopping → stopped: start() and stop() move it; a pass runs only while running. */
export const ENGINE_STATES = ['idle', 'running', 'stopping', 'stopped'] as const
export type EngineState = (typeof ENGINE_STATES)[number]

export interface SyncEngine {
  /** One scheduling pass: claim what the budget allows, fetch, write. Also what tests and the simulation call. */
  runPass(): Promise<PassReport>
  start(): void
  /** Stops scheduling; in-flight fetches finish and are written (graceful), then claims are released. */
  stop(): Promise<void>
  readonly state: EngineState
  readonly inFlight: number
}

export function createSyncEngine(o: SyncEngineOptions): SyncEngine {
  const batchSize = o.batchSize ?? 10
  const limit = pLimit(o.concurrency ?? 4)
  const claimTtlMs = o.claimTtlMs ?? 120_000
  const maintenanceEveryMs = o.maintenanceEveryMs ?? 60_000
  const plan = o.strategy ?? smartStrategy
  let state: EngineState = 'idle'
  let inFlight = 0
  let lastMaintenance = -Infinity
  // When the shared window next has room, as of this instance's last grant.
  // Other instances can only fill it further, so until then a pass need not
  // even load candidates (the 1 s tick would otherwise rank them every second).
  let budgetNextAt = -Infinity
  let current: Promise<PassReport> | undefined
  const scheduler = new ToadScheduler()

  async function fetchAndWrite(pair: ClaimedPair, stats: Awaited<ReturnType<typeof weekdayStats>>): Promise<{ ok: boolean; changed: boolean; skipped?: boolean }> {
    // A 429 earlier in this pass halts everyone: hand the rest back unsent
    // rather than queue them inside the client until the reset.
    if (o.partner.haltedUntil() > o.clock.now() || state === 'stopping') {
      await releaseClaim(o.pool, o.instanceId, pair)
      await o.budget.giveBack(1, pair.claimedAt)
      return { ok: false, changed: false, skipped: true }
    }
    inFlight++
    try {
      const res = await o.partner.fetchDay(pair.productId, pair.date)
      const now = o.clock.now()
      const today = localDate(now, pair.timeZone)
      const closed = isWeekdayClosed(stats.get(pair.productId)?.get(weekday(pair.date)))
      if (res.ok) {
        const sum = summarize(res.slots)
        const outcome: Outcome = sum.slotCount ? 'ok' : 'empty'
        const nextDueAt = plan.nextDueAfterFetch(
          { date: pair.date, timeZone: pair.timeZone, outcome, consecutiveFailures: 0, lastSlotStart: sum.lastSlotStart, totalRemaining: sum.totalRemaining, previousTotalRemaining: pair.totalRemaining, weekdayKnownClosed: closed },
          now,
          today,
        )
        const w = await writeDaySnapshot(o.pool, { productId: pair.productId, date: pair.date, slots: res.slots, fetchedAt: new Date(now), nextDueAt: new Date(nextDueAt), forcedBefore: new Date(pair.claimedAt) })
        return { ok: true, changed: w.changed }
      }
      const kind = res.error.kind
      const outcome: Outcome = kind === 'rate_limited' ? 'rate_limited' : kind === 'invalid_response' ? 'invalid' : 'error'
      const failures = outcome === 'rate_limited' ? pair.consecutiveFailures : pair.consecutiveFailures + 1
      const nextDueAt = plan.nextDueAfterFetch(
        { date: pair.date, timeZone: pair.timeZone, outcome, consecutiveFailures: failures, lastSlotStart: null, totalRemaining: null, previousTotalRemaining: null, weekdayKnownClosed: closed, retryAt: res.error.retryAt },
        now,
        today,
      )
      // Every instance stops sending until the partner's reset.
      if (kind === 'rate_limited' && res.error.retryAt) await o.budget.halt(res.error.retryAt)
      o.logger.warn({ productId: pair.productId, date: pair.date, kind, reason: res.error.message, attempts: res.attempts }, 'partner fetch failed')
      await recordFetchFailure(o.pool, { productId: pair.productId, date: pair.date, at: new Date(now), outcome, error: `${kind}: ${res.error.message}`, nextDueAt: new Date(nextDueAt), forcedBefore: new Date(pair.claimedAt) })
      await o.pool.query('UPDATE sync_control SET last_error = $1, last_error_at = $2 WHERE id = 1', [`${pair.productId} ${pair.date} ${kind}: ${res.error.message}`.slice(0, 1000), new Date(now)])
      return { ok: false, changed: false }
    } finally {
      inFlight--
    }
  }

  async function pass(): Promise<PassReport> {
    const report: PassReport = { due: 0, claimed: 0, fetched: 0, changed: 0, failed: 0, budgetLeft: 0 }
    if (state === 'stopping' || state === 'stopped') return { ...report, skipped: 'stopping' }
    const now = o.clock.now()
    const control = await readControl(o.pool)
    if (control.paused) return { ...report, skipped: 'paused' }
    if (now - lastMaintenance >= maintenanceEveryMs) {
      const m = await maintainHorizon(o.pool, now)
      lastMaintenance = now
      if (m.added || m.pruned) o.logger.debug(m, 'horizon maintained')
    }
    if (control.haltedUntil !== null && control.haltedUntil > now) return { ...report, skipped: 'halted', nextBudgetAt: control.haltedUntil }
    if (now < budgetNextAt) return { ...report, skipped: 'budget', nextBudgetAt: budgetNextAt }

    const candidates = await loadCandidates(o.pool, now, o.candidateLimit ?? 1_000)
    const todays = new Map<string, string>()
    const todayOf = (tz: string) => todays.get(tz) ?? todays.set(tz, localDate(now, tz)).get(tz)!
    const ranked = plan.rankDue(candidates, now, todayOf)
    report.due = ranked.length
    if (!ranked.length) return { ...report, skipped: 'idle' }

    const grant = await o.budget.take(Math.min(batchSize, ranked.length), now)
    report.budgetLeft = Math.max(0, o.budget.limitPerMinute - grant.usedInWindow)
    report.nextBudgetAt = grant.nextAt
    budgetNextAt = grant.nextAt
    if (grant.granted === 0) return { ...report, skipped: 'budget' }
    const claimed = await claimPairs(o.pool, ranked.slice(0, grant.granted), o.instanceId, now, claimTtlMs)
    report.claimed = claimed.length
    if (claimed.length < grant.granted) await o.budget.giveBack(grant.granted - claimed.length, now)

    const stats = await weekdayStats(o.pool, [...new Set(claimed.map((c) => c.productId))])
    const results = await Promise.all(claimed.map((pair) => limit(() => fetchAndWrite(pair, stats))))
    for (const r of results) {
      if (r.skipped) continue
      if (r.ok) report.fetched++
      else report.failed++
      if (r.changed) report.changed++
    }
    if (report.fetched) await o.pool.query('UPDATE sync_control SET last_success_at = $1 WHERE id = 1', [new Date(o.clock.now())])
    return report
  }

  async function runPass(): Promise<PassReport> {
    // One pass at a time per instance: the scheduler's tick and a manual call never overlap.
    while (current) await current.catch(() => {})
    current = pass()
    try {
      const r = await current
      if (r.claimed) o.logger.info({ pass: r }, 'sync pass')
      else o.logger.debug({ pass: r }, 'sync pass')
      return r
    } finally {
      current = undefined
    }
  }

  return {
    runPass,
    start() {
      if (state !== 'idle') return
      state = 'running'
      // A failing pass (database down) backs off 1 s, 2 s, 4 s … up to 30 s
      // instead of failing every tick; the first good pass resets it.
      let failures = 0
      let skipUntil = 0
      const task = new AsyncTask(
        'sync-pass',
        async () => {
          if (Date.now() < skipUntil) return
          try {
            await runPass()
            if (failures) o.logger.info({ after: failures }, 'sync passes succeed again')
            failures = 0
          } catch (err) {
            failures++
            const waitMs = Math.min(30_000, 1_000 * 2 ** (failures - 1))
            skipUntil = Date.now() + waitMs
            o.logger.error({ err: err instanceof Error ? err.message : String(err), failures, retryInMs: waitMs }, 'sync pass failed; backing off')
          }
        },
        (err) => o.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'sync pass failed'),
      )
      scheduler.addSimpleIntervalJob(new SimpleIntervalJob({ milliseconds: o.tickMs ?? 1_000, runImmediately: true }, task, { id: 'sync', preventOverrun: true }))
    },
    async stop() {
      if (state === 'stopped') return
      state = 'stopping'
      scheduler.stop()
      await current?.catch(() => {})
      await releaseClaims(o.pool, o.instanceId).catch(() => {})
      state = 'stopped'
    },
    get state() {
      return state
    },
    get inFlight() {
      return inFlight
    },
  }
}
