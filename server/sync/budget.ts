import type pg from 'pg'
import { withTransaction } from '../db/transaction.ts'
import { nextSendAt } from '../partner/pacer.ts'

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

const BUDGET_LOCK_KEY = 72_707_370

export interface BudgetOptions {
  limitPerMinute: number
  instanceId: string
  /**
   * Widens the window a little: our send time is stamped before the request
   * reaches the partner, and its clock counts arrivals.
   */
  marginMs?: number
  /** See WindowState.burstMs; default 10 s. */
  burstMs?: number
}

export interface Budget {
  readonly limitPerMinute: number
  /** Takes up to `want` requests from the shared window (atomically across instances). */
  take(want: number, now: number): Promise<Grant>
  /** Gives back requests taken but not sent (fewer pairs were due than expected). */
  giveBack(count: number, now: number): Promise<void>
  /** Halts every instance until `until` (a 429's reset). */
  halt(until: number): Promise<void>
  usage(now: number, sinceDayStart: number): Promise<{ usedInWindow: number; usedToday: number; haltedUntil: number | null }>
}

export function createBudget(pool: pg.Pool, opts: BudgetOptions): Budget {
  const windowMs = WINDOW_MS + (opts.marginMs ?? 1_000)
  return {
    limitPerMinute: opts.limitPerMinute,
    take(want, now) {
      return withTransaction(pool, async (client) => {
        // Serializes budget decisions of all instances for the length of this transaction.
        await client.query('SELECT pg_advisory_xact_lock($1)', [BUDGET_LOCK_KEY])
        const { rows } = await client.query<{ t: string }>(
          `SELECT (extract(epoch FROM sent_at) * 1000)::bigint AS t FROM partner_request WHERE sent_at > $1 ORDER BY sent_at`,
          [new Date(now - windowMs)],
        )
        const ctl = await client.query<{ h: string | null }>('SELECT (extract(epoch FROM halted_until) * 1000)::bigint AS h FROM sync_control WHERE id = 1')
        const grant = grantFromWindow(
          { sent: rows.map((r) => Number(r.t)), now, limit: opts.limitPerMinute, windowMs, burstMs: opts.burstMs ?? 10_000, haltedUntil: ctl.rows[0]?.h ? Number(ctl.rows[0].h) : null },
          want,
        )
        if (grant.granted > 0) {
          await client.query(
            `INSERT INTO partner_request (sent_at, instance_id) SELECT $1, $2 FROM generate_series(1, $3)`,
            [new Date(now), opts.instanceId, grant.granted],
          )
        }
        return grant
      })
    },
    async giveBack(count, now) {
      if (count <= 0) return
      await pool.query(
        `DELETE FROM partner_request WHERE id IN (
           SELECT id FROM partner_request WHERE instance_id = $1 AND sent_at = $2 ORDER BY id DESC LIMIT $3)`,
        [opts.instanceId, new Date(now), count],
      )
    },
    async halt(until) {
      await pool.query(
        `UPDATE sync_control SET halted_until = GREATEST(coalesce(halted_until, to_timestamp(0)), $1) WHERE id = 1`,
        [new Date(until)],
      )
    },
    async usage(now, sinceDayStart) {
      const { rows } = await pool.query<{ w: number; d: number; h: string | null }>(
        `SELECT (SELECT count(*)::int FROM partner_request WHERE sent_at > $1 AND sent_at <= $3) AS w,
                (SELECT count(*)::int FROM partner_request WHERE sent_at >= $2 AND sent_at <= $3) AS d,
                (SELECT (extract(epoch FROM halted_until) * 1000)::bigint FROM sync_control WHERE id = 1) AS h`,
        [new Date(now - WINDOW_MS), new Date(sinceDayStart), new Date(now)],
      )
      const r = rows[0]!
      return { usedInWindow: r.w, usedToday: r.d, haltedUntil: r.h && Number(r.h) > now ? Number(r.h) : null }
    },
  }
}
