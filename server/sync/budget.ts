import { Prisma, type PrismaClient } from '../db/client.ts'
import { transaction, TX } from '../db/transaction.ts'
import { nextSendAt } from '../partner/rate-window.ts'
import type { Clock } from '../clock.ts'
import { BACKOFF_AFTER_FAILURES, breakerChange, breakerGate, type BreakerChange, type BreakerState } from './backoff.ts'
import { grantLane, LIVE_ACTIVE_MS, type Lane } from './lane.ts'

/**
 * The partner budget: at most `limit` requests in ANY rolling window, shared
 * by every instance on the database. A sliding-window log (one row per
 * request in partner_request), not a token bucket, because a bucket that
 * starts full can send twice the limit across a window edge.
 */
export const WINDOW_MS = 60_000

export interface WindowState {
  /** Send times inside the window ending now, ascending. */
  sent: readonly number[]
  now: number
  limit: number
  windowMs: number
  /** A 429's reset: nothing may be sent before it. */
  haltedUntil: number | null
  /**
   * Spreads the limit evenly: at most limit × burstMs / windowMs sends in any
   * burstMs. Without it the whole minute's budget goes out at once and a pair
   * that falls due just after waits up to a minute.
   */
  burstMs?: number
}

export interface Grant {
  granted: number
  /** When the next request could go out (now when some are left). */
  nextAt: number
  usedInWindow: number
}

/** How many of `want` requests may go out at `now` (pure). */
export function grantFromWindow(s: WindowState, want: number): Grant {
  const inWindow = s.sent.filter((t) => t > s.now - s.windowMs)
  if (s.haltedUntil !== null && s.haltedUntil > s.now) return { granted: 0, nextAt: s.haltedUntil, usedInWindow: inWindow.length }
  const burstMs = s.burstMs ?? s.windowMs
  const burstCap = Math.max(1, Math.ceil((s.limit * burstMs) / s.windowMs))
  const inBurst = inWindow.filter((t) => t > s.now - burstMs)
  const left = Math.max(0, Math.min(s.limit - inWindow.length, burstCap - inBurst.length))
  const granted = Math.min(left, Math.max(0, want))
  const fresh = Array<number>(granted).fill(s.now)
  const nextAt =
    granted < left
      ? s.now
      : Math.max(nextSendAt([...inWindow, ...fresh], s.now, s.limit, s.windowMs), nextSendAt([...inBurst, ...fresh], s.now, burstCap, burstMs))
  return { granted, nextAt, usedInWindow: inWindow.length + granted }
}

/**
 * The advisory lock every send decision of every instance holds while it
 * decides. Pausing and removing a product take it too, so once they have
 * answered no instance is halfway through deciding to send.
 */
export const DISPATCH_LOCK_KEY = 72_707_370

export interface BudgetOptions {
  limitPerMinute: number
  instanceId: string
  /**
   * Added to the partner's 60 s window: the partner counts a request when it
   * arrives, a moment after we stamp it, and its clock is not ours.
   */
  marginMs?: number
  /** See WindowState.burstMs; default 10 s. */
  burstMs?: number
  /**
   * The clock the shared window is stamped and read with. Default: the
   * database's (`clock_timestamp()`), one clock for every instance however
   * far their own clocks drift. Tests and the simulation pass theirs.
   */
  clock?: Clock
  /** SYNC_LIVE_SHARE: the share of the limit the live lane may use per window (lane.ts); default 0, no lane. */
  liveShare?: number
}

/** What the shared window allows a minute on average: the limit over the window with its margin. */
export function usablePerMinute(b: { limitPerMinute: number; windowMs: number }): number {
  return (b.limitPerMinute * 60_000) / b.windowMs
}

/** `lane`: a live permit found the live lane spent (lane.ts); `budget`: the window has no place. */
export type PermitSkip = 'paused' | 'halted' | 'backoff' | 'budget' | 'lane' | 'idle'

export interface Permit<T> {
  /** What the claim returned; the request it stands for was stamped into the window. */
  granted?: T
  skipped?: PermitSkip
  /** The window's clock when decided. */
  now: number
  /** When the next request could go out, on the window's clock. */
  nextAt: number
  usedInWindow: number
}

export interface Budget {
  readonly limitPerMinute: number
  readonly windowMs: number
  /** SYNC_LIVE_SHARE (0: no live lane). */
  readonly liveShare: number
  /**
   * Decides one send, atomically across instances: under the dispatch lock,
   * if sync is not paused or halted and the window has room now, runs
   * `claim` in the same transaction and, if it returns something, stamps one
   * request into the window at this instant. The caller sends right after.
   * `lane` (default scheduled) chooses the rule of lane.ts the window is read with.
   */
  permit<T>(claim: (tx: Prisma.TransactionClient) => Promise<T | undefined>, lane?: Lane): Promise<Permit<T>>
  /** Halts every instance until `until` (a 429's reset). */
  halt(until: number): Promise<void>
  /**
   * Counts one partner answer into the breaker every instance shares
   * (backoff.ts): `failure` when the partner itself failed, `answer` when it
   * answered anything. Says when this call moved the breaker in or out of backing off.
   */
  recordPartner(outcome: 'failure' | 'answer'): Promise<BreakerChange>
  /** The window's clock now. */
  now(): Promise<number>
  usage(sinceDayStart?: number): Promise<{ now: number; usedInWindow: number; usedToday: number; haltedUntil: number | null; breaker: BreakerState }>
}

/** The window's instant: the caller's clock when it has one, else the database's. */
const nowSql = (clock: Date | null) => Prisma.sql`coalesce(${clock}::timestamptz, clock_timestamp())`
/** Epoch milliseconds of a timestamptz column or expression (a constant fragment of this file). */
const ms = (col: string) => Prisma.raw(`floor(extract(epoch FROM ${col}) * 1000)::bigint`)

export function createBudget(prisma: PrismaClient, opts: BudgetOptions): Budget {
  const windowMs = WINDOW_MS + (opts.marginMs ?? 1_000)
  const clockParam = () => (opts.clock ? new Date(opts.clock.now()) : null)
  const liveShare = opts.liveShare ?? 0
  // When this instance last asked for a live place (granted or not): a check
  // waiting for a place in a full window must make the lane active, or
  // scheduled work takes every place that frees and no check ever goes out.
  let liveAskedAt = Number.NEGATIVE_INFINITY
  return {
    limitPerMinute: opts.limitPerMinute,
    windowMs,
    liveShare,
    permit(claim, lane = 'scheduled') {
      return transaction(prisma, TX.dispatch, async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${DISPATCH_LOCK_KEY})`
        // Read after the lock: a pause or halt committed while we waited is seen.
        const rows = await tx.$queryRaw<
          {
            now: bigint
            paused: boolean | null
            halted: bigint | null
            failures: number | null
            probe: bigint | null
            sent: bigint[]
            live: bigint[]
            live_active: boolean
          }[]
        >`
          WITH n AS (SELECT ${nowSql(clockParam())} AS now)
          SELECT ${ms('n.now')} AS now, c.paused, ${ms('c.halted_until')} AS halted, c.partner_failures AS failures, ${ms('c.partner_probe_at')} AS probe,
                 ARRAY(SELECT ${ms('r.sent_at')} FROM partner_request r WHERE r.sent_at > n.now - ${windowMs} * interval '1 millisecond' ORDER BY r.sent_at) AS sent,
                 ARRAY(SELECT ${ms('r.sent_at')} FROM partner_request r WHERE r.live AND r.sent_at > n.now - ${windowMs} * interval '1 millisecond' ORDER BY r.sent_at) AS live,
                 EXISTS (SELECT 1 FROM partner_request r WHERE r.live AND r.sent_at > n.now - ${LIVE_ACTIVE_MS} * interval '1 millisecond') AS live_active
          FROM n LEFT JOIN sync_control c ON c.id = 1`
        const r = rows[0]!
        const now = Number(r.now)
        if (lane === 'live') liveAskedAt = now
        const sent = r.sent.map(Number)
        const haltedUntil = r.halted === null ? null : Number(r.halted)
        const live = r.live.map(Number)
        const g = grantLane(
          {
            sent,
            live,
            liveActive: r.live_active || now - liveAskedAt < LIVE_ACTIVE_MS,
            liveShare,
            now,
            limit: opts.limitPerMinute,
            windowMs,
            burstMs: opts.burstMs ?? 10_000,
            haltedUntil,
          },
          lane,
        )
        const base = { now, nextAt: g.nextAt, usedInWindow: sent.length }
        if (r.paused) return { ...base, skipped: 'paused' as const }
        if (haltedUntil !== null && haltedUntil > now) return { ...base, skipped: 'halted' as const }
        const gate = breakerGate({ consecutiveFailures: r.failures ?? 0, lastProbeAt: r.probe === null ? null : Number(r.probe) }, now)
        if (!gate.allowed) return { ...base, nextAt: Math.max(g.nextAt, gate.nextProbeAt), skipped: 'backoff' as const }
        if (!g.granted) return { ...base, skipped: g.refusedBy === 'lane' ? ('lane' as const) : ('budget' as const) }
        const granted = await claim(tx)
        if (granted === undefined) return { ...base, nextAt: now, skipped: 'idle' as const }
        // The probe's place is taken under the lock, so all instances together send one per interval.
        if (gate.state === 'backing-off') await tx.$executeRaw`UPDATE sync_control SET partner_probe_at = ${new Date(now)} WHERE id = 1`
        await tx.partnerRequest.create({ data: { sentAt: new Date(now), instanceId: opts.instanceId, live: lane === 'live' }, select: { id: true } })
        return { ...base, granted, usedInWindow: g.usedInWindow }
      })
    },
    async halt(until) {
      await prisma.$executeRaw`UPDATE sync_control SET halted_until = GREATEST(coalesce(halted_until, to_timestamp(0)), ${new Date(until)}) WHERE id = 1`
    },
    async recordPartner(outcome) {
      if (outcome === 'failure') {
        // Entering the backoff counts as a probe: the next request waits a whole interval.
        const rows = await prisma.$queryRaw<{ after: number }[]>`
          UPDATE sync_control SET partner_failures = partner_failures + 1,
            partner_probe_at = CASE WHEN partner_failures + 1 = ${BACKOFF_AFTER_FAILURES} THEN ${nowSql(clockParam())} ELSE partner_probe_at END
          WHERE id = 1 RETURNING partner_failures AS after`
        const after = rows[0]?.after ?? 0
        return breakerChange(after - 1, after)
      }
      // Writes (and locks) only while there is something to clear: at full speed an answer costs one read.
      const rows = await prisma.$queryRaw<{ before: number }[]>`
        WITH old AS (SELECT partner_failures AS before FROM sync_control WHERE id = 1 AND partner_failures > 0 FOR UPDATE)
        UPDATE sync_control c SET partner_failures = 0, partner_probe_at = NULL FROM old WHERE c.id = 1 RETURNING old.before`
      return rows.length ? breakerChange(rows[0]!.before, 0) : undefined
    },
    async now() {
      if (opts.clock) return opts.clock.now()
      const rows = await prisma.$queryRaw<{ now: bigint }[]>`SELECT ${ms('clock_timestamp()')} AS now`
      return Number(rows[0]!.now)
    },
    async usage(sinceDayStart) {
      const rows = await prisma.$queryRaw<{ now: bigint; w: number; d: number; h: bigint | null; f: number | null; p: bigint | null }[]>`
        WITH n AS (SELECT ${nowSql(clockParam())} AS now)
        SELECT ${ms('n.now')} AS now,
               (SELECT count(*)::int FROM partner_request WHERE sent_at > n.now - interval '60 seconds' AND sent_at <= n.now) AS w,
               (SELECT count(*)::int FROM partner_request WHERE sent_at >= ${new Date(sinceDayStart ?? 0)} AND sent_at <= n.now) AS d,
               c.h, c.f, c.p
        FROM n LEFT JOIN (SELECT ${ms('halted_until')} AS h, partner_failures AS f, ${ms('partner_probe_at')} AS p FROM sync_control WHERE id = 1) c ON true`
      const r = rows[0]!
      const now = Number(r.now)
      return {
        now,
        usedInWindow: r.w,
        usedToday: r.d,
        haltedUntil: r.h !== null && Number(r.h) > now ? Number(r.h) : null,
        breaker: { consecutiveFailures: r.f ?? 0, lastProbeAt: r.p === null ? null : Number(r.p) },
      }
    },
  }
}
