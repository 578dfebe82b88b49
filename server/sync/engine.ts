import pLimit from 'p-limit'
import type { Clock } from '../clock.ts'
import type { Database } from '../db/client.ts'
import type { Logger } from '../logger.ts'
import { DEFAULT_PARTNER_TIMEOUT_MS, type FetchDayResult } from '../partner/client.ts'
import { usablePerMinute, type Budget, type PermitSkip } from './budget.ts'
import { claimNext, releaseClaims, type ClaimedPair } from './claims.ts'
import type { ReadCounter } from './demand.ts'
import { wakeOnSchedule } from './jobs.ts'
import { nextDue, todayLeadMs, type Outcome } from './policy/deadline.ts'
import type { Plan } from './policy/plan.ts'
import { rankCandidates } from './policy/rank.ts'
import { createRanker } from './ranker.ts'
import { fetchDayInto, type Sent } from './worker.ts'

/** The policy's two decisions; swappable so a benchmark can run a naive baseline through the same engine. */
export interface PlanStrategy {
  nextDue: typeof nextDue
  rank: typeof rankCandidates
}
export const smartStrategy: PlanStrategy = { nextDue, rank: rankCandidates }

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
  logger: Logger
  instanceId: string
  /** Partner requests in flight at once from this instance (SYNC_MAX_IN_FLIGHT). */
  maxInFlight?: number
  /** How long a claim holds before another instance may take the pair over; must outlast a request. */
  claimTtlMs?: number
  /** Clock ms between horizon upkeep runs (new days in, past days out). */
  maintenanceEveryMs?: number
  /** How many pairs of each planned tier a ranking lists beyond what the plan sends before the next. */
  candidateLimit?: number
  /** Clock ms a ranking is used before the due pairs are listed again. */
  rankEveryMs?: number
  /** Real ms the dispatcher waits before looking again when nothing is due or sync is paused. */
  idleWaitMs?: number
  /** Send pairs before they are due: at the plan's turn, or with room nothing due needs (default true; tests turn it off to see only due pairs sent). */
  spendSpareBudget?: boolean
  strategy?: PlanStrategy
  observer?: SyncObserver
  /** The partner client's time limit for one answer (PARTNER_TIMEOUT_MS): today's lead covers it (policy/deadline.ts todayLeadMs). */
  answerTimeoutMs?: number
  /** Read counts to flush before a ranking, on the engine's clock (one of its periodic jobs; they also flush on their own timer). */
  demand?: Pick<ReadCounter, 'flushIfDue'>
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

/** idle → running → stopping → stopped; idle → stopping (stopped before it started). */
export const ENGINE_STATES = ['idle', 'running', 'stopping', 'stopped'] as const
export type EngineState = (typeof ENGINE_STATES)[number]
const MOVES = {
  idle: ['running', 'stopping'],
  running: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
} as const satisfies Record<EngineState, readonly EngineState[]>

export interface SyncEngine {
  /** Production: step continuously, each request the moment the shared window has room. */
  start(): void
  /** Stops the next send at once; in-flight fetches finish and are written; then claims are released. */
  stop(): Promise<void>
  /**
   * One step at this clock reading (tests, simulation; production runs the
   * same step in a loop): rank afresh (`rerank`, default; else when the
   * ranking is stale, as in production), send what the window and the
   * in-flight bound allow, and (with `settle`, the default) wait until every
   * answer is written.
   */
  runPass(opts?: { settle?: boolean; rerank?: boolean }): Promise<PassReport>
  /** Resolves when every request in flight has been answered and written. */
  settled(): Promise<void>
  readonly state: EngineState
  readonly inFlight: number
  /** The plan the engine follows (policy/plan.ts); undefined before its first ranking. */
  readonly plan: Plan | undefined
  /** How long before its staleness today's day is sent (policy/deadline.ts todayLeadMs, from this engine's settings). */
  readonly todayLeadMs: number
  /** Plan again at the next step (a product added or removed, a pause, a resume), not at the next minute. */
  replanSoon(): void
}

/** Why a step stopped sending, with the budget's reading at that moment. */
type Halt = { skipped: PermitSkip; now: number; nextAt: number; usedInWindow: number }
type Dispatch = { sent: true; done: Promise<Sent>; early: boolean } | { sent: false; retry: true } | ({ sent: false; retry?: false } & Halt)

export function createSyncEngine(o: SyncEngineOptions): SyncEngine {
  const maxInFlight = Math.max(1, o.maxInFlight ?? 8)
  const claimTtlMs = o.claimTtlMs ?? 120_000
  const maintenanceEveryMs = o.maintenanceEveryMs ?? 60_000
  const rankEveryMs = o.rankEveryMs ?? 5_000
  const idleWaitMs = o.idleWaitMs ?? 2_000
  const plan = o.strategy ?? smartStrategy
  const log = o.logger
  const todayLead = todayLeadMs({
    rankEveryMs,
    perMinute: usablePerMinute(o.budget),
    answerTimeoutMs: o.answerTimeoutMs ?? DEFAULT_PARTNER_TIMEOUT_MS,
  })
  const worker = { ...o, todayLeadMs: todayLead }
  const ranker = createRanker({
    db: o.db,
    budget: o.budget,
    logger: log,
    plan,
    maintenanceEveryMs,
    rankEveryMs,
    candidateLimit: o.candidateLimit ?? 64,
    observer: o.observer,
    demand: o.demand,
  })
  // The bound on partner requests in flight. A pair is claimed only when the
  // bound has room, so nothing waits in its queue holding a claim.
  const requests = pLimit(maxInFlight)
  const hasRoom = () => requests.activeCount + requests.pendingCount < maxInFlight
  // Every request until its answer is written (the bound frees its place a moment earlier, when the write returns).
  const unwritten = new Set<Promise<Sent>>()
  let state: EngineState = 'idle'
  const stopping = new AbortController()
  let loop: Promise<void> | undefined
  let stopped: Promise<void> | undefined
  // Counts since the last progress line.
  let progress = { sent: 0, ok: 0, failed: 0, changed: 0, since: -Infinity }

  function moveTo(next: EngineState) {
    if (!(MOVES[state] as readonly EngineState[]).includes(next)) throw new Error(`sync engine cannot go from ${state} to ${next}`)
    state = next
  }

  /** Sends one claimed pair; its answer is written whenever it comes, without holding up the next send. */
  function launch(pair: ClaimedPair): Promise<Sent> {
    progress.sent++
    const p = requests(() => fetchDayInto(worker, plan, pair)).then(
      (r) => {
        if (r.ok) progress.ok++
        else progress.failed++
        if (r.changed) progress.changed++
        if (r.halted) ranker.replanSoon()
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
    unwritten.add(p)
    void p.finally(() => {
      unwritten.delete(p)
      wake()
    })
    return p
  }

  const spendEarly = o.spendSpareBudget ?? true
  async function rank(now: number): Promise<void> {
    await ranker.rank(now)
    if (!spendEarly) ranker.queue = ranker.queue.filter((r) => !r.early)
    reportProgress(now)
  }

  /** One send decision: the next ranked pair and a place in the shared window, taken together, now. */
  async function dispatchOne(): Promise<Dispatch> {
    const now = o.clock.now()
    if (ranker.stale(now)) await rank(now)
    // Nothing due still asks the budget, so a pause or halt is reported as such.
    const head = ranker.queue.slice(0, 32)
    let skippedPairs = 0
    const permit = await o.budget.permit(async (tx) => {
      // stop() may have been called while this decision waited for the lock.
      if (!head.length || stopping.signal.aborted) return undefined
      const r = await claimNext(tx, head, o.instanceId, now, claimTtlMs)
      skippedPairs = r.skipped
      return r.pair
    })
    if (permit.granted) {
      const ranked = ranker.queue[skippedPairs]
      if (ranked) ranker.sent(ranked)
      ranker.queue.splice(0, skippedPairs + 1)
      return { sent: true, done: launch(permit.granted), early: head[skippedPairs]?.early === true }
    }
    if (permit.skipped === 'idle' && head.length) {
      // All of the head was taken by others or paused meanwhile: look further.
      ranker.queue.splice(0, head.length)
      return { sent: false, retry: true }
    }
    return { sent: false, skipped: permit.skipped!, now: permit.now, nextAt: permit.nextAt, usedInWindow: permit.usedInWindow }
  }

  /**
   * The engine's one step, for production's loop and for runPass alike: rank
   * when asked or stale (horizon upkeep first when it is due), then send
   * until the window, the in-flight bound, an empty queue or stop() says no.
   * With `waitForRoom`, a full bound is waited out instead of ending the step.
   */
  async function step(opts: { rerank: boolean; waitForRoom: boolean }): Promise<{ report: PassReport; halt?: Halt; sent: Promise<Sent>[] }> {
    const report: PassReport = { due: 0, early: 0, claimed: 0, fetched: 0, changed: 0, failed: 0, budgetLeft: 0 }
    const sent: Promise<Sent>[] = []
    const now = o.clock.now()
    if (opts.rerank || ranker.stale(now)) await rank(now)
    report.due = ranker.queue.filter((r) => !r.early).length
    let halt: Halt | undefined
    while (!stopping.signal.aborted) {
      if (!hasRoom()) {
        if (!opts.waitForRoom) {
          report.skipped = report.stoppedBy = 'in-flight'
          break
        }
        await Promise.race(unwritten)
        continue
      }
      const d = await dispatchOne()
      if (d.sent) {
        report.claimed++
        if (d.early) report.early++
        sent.push(d.done)
      }
      if (d.sent || d.retry) continue
      halt = d
      break
    }
    if (halt) {
      report.budgetLeft = Math.max(0, o.budget.limitPerMinute - halt.usedInWindow)
      report.nextBudgetAt = halt.nextAt
      report.stoppedBy = halt.skipped
      if (!report.claimed) report.skipped = halt.skipped
    }
    return { report, halt, sent }
  }

  let wakeUp: (() => void) | undefined
  function wake() {
    wakeUp?.()
    wakeUp = undefined
  }
  /** Until an in-flight request finishes, a scheduled job wakes it, `ms` pass (real time on the engine's clock) or stop() is called. */
  function waitForWake(ms: number): Promise<void> {
    const woken = new Promise<void>((resolve) => (wakeUp = resolve))
    return Promise.race([woken, o.clock.sleep(ms, stopping.signal)])
  }

  /** Production: the step in a loop, parked between steps until something can change its answer. */
  async function run(): Promise<void> {
    const jobs = wakeOnSchedule(
      [
        { id: 'horizon upkeep', everyMs: maintenanceEveryMs },
        { id: 're-ranking', everyMs: rankEveryMs },
      ],
      wake,
    )
    let failures = 0
    try {
      while (state === 'running') {
        let halt: Halt | undefined
        try {
          halt = (await step({ rerank: false, waitForRoom: false })).halt
          if (failures) log.info({ after: failures }, 'sync passes succeed again')
          failures = 0
        } catch (err) {
          // Database down: back off 1 s, 2 s, 4 s … up to 30 s instead of spinning (errors are logged, never thrown out of the loop).
          failures++
          const waitMs = Math.min(30_000, 1_000 * 2 ** (failures - 1))
          log.error({ err: err instanceof Error ? err.message : String(err), failures, retryInMs: waitMs }, 'sync pass failed; backing off')
          await o.clock.sleep(waitMs, stopping.signal)
          continue
        }
        // A full in-flight bound is woken by the next answer; the budget and a halt say when they have room.
        const waiting = halt && (halt.skipped === 'budget' || halt.skipped === 'halted' || halt.skipped === 'backoff')
        await waitForWake(waiting ? Math.min(Math.max(1, halt!.nextAt - halt!.now), 60_000) : idleWaitMs)
      }
    } finally {
      jobs.stop()
    }
  }

  /** At most one line a minute (the first at once): what the last minute's passes planned and sent. */
  function reportProgress(now: number) {
    if (now - progress.since < 60_000) return
    const { since, ...counts } = progress
    log.info({ pass: { due: ranker.queue.length, ...counts, inFlight: unwritten.size, sinceMs: Number.isFinite(since) ? now - since : 0 } }, 'sync pass')
    progress = { sent: 0, ok: 0, failed: 0, changed: 0, since: now }
  }

  async function settled(): Promise<void> {
    while (unwritten.size) await Promise.allSettled([...unwritten])
  }

  return {
    start() {
      if (state !== 'idle') return
      moveTo('running')
      loop = run()
    },
    stop() {
      stopped ??= (async () => {
        moveTo('stopping')
        stopping.abort()
        wake()
        await loop
        await settled()
        await releaseClaims(o.db.prisma, o.instanceId).catch(() => {})
        moveTo('stopped')
      })()
      return stopped
    },
    async runPass(opts = {}) {
      if (state === 'stopping' || state === 'stopped')
        return { due: 0, early: 0, claimed: 0, fetched: 0, changed: 0, failed: 0, budgetLeft: 0, skipped: 'stopping' }
      const { report, sent } = await step({ rerank: opts.rerank !== false, waitForRoom: opts.settle !== false })
      if (opts.settle !== false) {
        for (const r of await Promise.all(sent)) {
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
      return unwritten.size
    },
    get plan() {
      return ranker.plan
    },
    todayLeadMs: todayLead,
    replanSoon() {
      ranker.replanSoon()
      ranker.queue = []
      wake()
    },
  }
}
