import { weekday } from '../calendar/days.ts'
import type { Clock } from '../clock.ts'
import type { Database } from '../db/client.ts'
import type { Logger } from '../logger.ts'
import type { FetchDayResult } from '../partner/client.ts'
import { BACKOFF_AFTER_FAILURES, isPartnerFailure, PROBE_EVERY_MS } from './backoff.ts'
import type { Budget } from './budget.ts'
import { weekdayStats, type ClaimedPair } from './claims.ts'
import type { PlanStrategy, SyncObserver } from './engine.ts'
import { summarize } from './mapping.ts'
import { isWeekdayClosed, type Outcome } from './policy/deadline.ts'
import { recordFetchFailure, writeDaySnapshot } from './snapshot.ts'

/**
 * The worker's part: one claimed (product, date) from the partner into the
 * database. The answer is written whole (or the failure recorded), the next
 * due time decided by the planner, a 429 turned into a halt for everyone.
 * Partner problems come back as `ok: false`; only the database can throw.
 */
export interface WorkerDeps {
  db: Database
  partner: { fetchDay(productId: number, date: string, signal?: AbortSignal): Promise<FetchDayResult> }
  budget: Pick<Budget, 'halt' | 'recordPartner'>
  clock: Clock
  logger: Logger
  observer?: SyncObserver
  /** How long before its staleness today's day is sent again (policy/deadline.ts todayLeadMs). */
  todayLeadMs: number
}

/**
 * `halted`: the partner answered 429 and every instance waits for its reset (the plan changes with it).
 * `fetchedAt`: the answer's time as stored (ok only); `error`: why it failed (kind: message).
 */
export type Sent = { ok: boolean; changed: boolean; halted?: boolean; fetchedAt?: number; error?: string }

/** `live`: sent by a live check (sync/live.ts); the day is written the same way, marked so for sync/explain. */
export async function fetchDayInto(o: WorkerDeps, plan: PlanStrategy, pair: ClaimedPair, live = false): Promise<Sent> {
  const res = await o.partner.fetchDay(pair.productId, pair.date)
  const now = o.clock.now()
  // One record per change of state, by whichever instance made it, not one per failure.
  const change = await o.budget.recordPartner(!res.ok && isPartnerFailure(res.error) ? 'failure' : 'answer')
  if (change === 'entered')
    o.logger.warn({ failures: BACKOFF_AFTER_FAILURES, probeEveryMs: PROBE_EVERY_MS }, 'partner failing persistently: sending backs off to probes')
  else if (change === 'left') o.logger.info({ productId: pair.productId, date: pair.date }, 'partner answers again: sending at full speed')
  const stats = await weekdayStats(o.db.prisma, [pair.productId])
  const closed = isWeekdayClosed(stats.get(pair.productId)?.get(weekday(pair.date)))
  if (res.ok) {
    const sum = summarize(res.slots)
    const outcome: Outcome = sum.slotCount ? 'ok' : 'empty'
    o.observer?.partnerRequest(outcome, res.latencyMs)
    const next = plan.nextDue(
      {
        date: pair.date,
        timeZone: pair.timeZone,
        outcome,
        consecutiveFailures: 0,
        lastSlotStart: sum.lastSlotStart,
        weekdayKnownClosed: closed,
        todayLeadMs: o.todayLeadMs,
      },
      now,
    )
    const w = await writeDaySnapshot(o.db.prisma, {
      productId: pair.productId,
      date: pair.date,
      slots: res.slots,
      fetchedAt: new Date(now),
      nextDueAt: new Date(next.at),
      dueReason: next.reason,
      forcedBefore: new Date(pair.claimedAt),
      live,
    })
    if (w.eventId !== undefined) o.observer?.changeEvent?.(w.eventId)
    return { ok: true, changed: w.changed, fetchedAt: now }
  }
  const kind = res.error.kind
  const outcome: Outcome = kind === 'rate_limited' ? 'rate_limited' : kind === 'invalid_response' ? 'invalid' : 'error'
  o.observer?.partnerRequest(outcome, res.latencyMs)
  const failures = outcome === 'rate_limited' ? pair.consecutiveFailures : pair.consecutiveFailures + 1
  const next = plan.nextDue(
    {
      date: pair.date,
      timeZone: pair.timeZone,
      outcome,
      consecutiveFailures: failures,
      lastSlotStart: null,
      weekdayKnownClosed: closed,
      retryAt: res.error.retryAt,
      todayLeadMs: o.todayLeadMs,
    },
    now,
  )
  // Every instance stops sending until the partner's reset.
  if (kind === 'rate_limited' && res.error.retryAt) await o.budget.halt(res.error.retryAt)
  o.logger.warn({ productId: pair.productId, date: pair.date, kind, reason: res.error.message, attempts: res.attempts }, 'partner fetch failed')
  await recordFetchFailure(o.db.prisma, {
    productId: pair.productId,
    date: pair.date,
    at: new Date(now),
    outcome,
    error: `${kind}: ${res.error.message}`,
    nextDueAt: new Date(next.at),
    dueReason: next.reason,
    forcedBefore: new Date(pair.claimedAt),
  })
  await o.db.prisma.syncControl.updateMany({
    where: { id: 1 },
    data: { lastError: `${pair.productId} ${pair.date} ${kind}: ${res.error.message}`.slice(0, 1000), lastErrorAt: new Date(now) },
  })
  return { ok: false, changed: false, halted: kind === 'rate_limited', error: `${kind}: ${res.error.message}` }
}
