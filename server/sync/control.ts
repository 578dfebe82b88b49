import type pg from 'pg'
import { localDate, startOfDay } from '../calendar/days.ts'
import { checkDateInHorizon, HORIZON_DAYS, horizonAt } from '../calendar/horizon.ts'
import type { Clock } from '../clock.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import type { RunRequest, SyncService, SyncStateView, SyncStatusView, TierCounts } from '../api/services.ts'
import type { Budget } from './budget.ts'
import { maintainHorizon } from './claims.ts'
import { readControl } from './control-state.ts'
import { TIERS } from './tiers.ts'

export interface SyncControlOptions {
  pool: pg.Pool
  clock: Clock
  budget: Budget
  /** The zone whose calendar day "today" means for the budget's daily count. */
  timeZone: string
  partner: { baseUrl: string; sandbox: boolean }
  engine?: { readonly state: string; readonly inFlight: number }
}

type Q = Pick<pg.Pool, 'query'>

async function assertProduct(pool: Q, productId: number): Promise<void> {
  const { rowCount } = await pool.query('SELECT 1 FROM product WHERE id = $1', [productId])
  if (!rowCount) throw new NotFoundError(`product ${productId} is not known to slotsync`)
}

async function pausedProducts(pool: Q): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM product WHERE paused ORDER BY id')
  return rows.map((r) => r.id)
}

// Per tier (by day offset in each product's zone): fresh = not due yet;
// due = due, for less than one target period; overdue = longer than that.
const TIER_CASE = `CASE ${TIERS.map((t) => `WHEN d.off BETWEEN ${t.fromOffset} AND ${t.toOffset} THEN '${t.name}'`).join(' ')} END`
const TARGET_CASE = `CASE ${TIERS.map((t) => `WHEN d.off BETWEEN ${t.fromOffset} AND ${t.toOffset} THEN ${t.targetMs}`).join(' ')} END`

/**
 * Pause, resume, "run now" and status: the sync engine's controls, kept in
 * the database so they hold for every instance and survive restarts.
 */
export function createSyncControl(o: SyncControlOptions): SyncService {
  const { pool, clock } = o

  async function stateView(productId?: number): Promise<SyncStateView> {
    const c = await readControl(pool)
    const paused = await pausedProducts(pool)
    const view: SyncStateView = { paused: productId === undefined ? c.paused : c.paused || paused.includes(productId), changedAt: new Date(c.changedAt).toISOString(), pausedProducts: paused }
    if (productId !== undefined) view.productId = productId
    return view
  }

  async function setPaused(paused: boolean, productId?: number): Promise<SyncStateView> {
    const at = new Date(clock.now())
    if (productId === undefined) {
      await pool.query('UPDATE sync_control SET paused = $1, reason = $2, changed_at = $3 WHERE id = 1', [paused, paused ? 'paused through the API' : null, at])
    } else {
      await assertProduct(pool, productId)
      await pool.query('UPDATE product SET paused = $2, paused_at = $3, updated_at = $4 WHERE id = $1', [productId, paused, paused ? at : null, at])
    }
    return stateView(productId)
  }

  return {
    pause: (productId) => setPaused(true, productId),
    resume: (productId) => setPaused(false, productId),

    async run(req: RunRequest) {
      const now = clock.now()
      if (req.productId !== undefined) await assertProduct(pool, req.productId)
      // The horizon rows must exist before they can be queued (a product added a moment ago).
      await maintainHorizon(pool, now)
      const { rows: zones } = await pool.query<{ time_zone: string }>(
        'SELECT DISTINCT time_zone FROM product WHERE active AND ($1::int IS NULL OR id = $1)',
        [req.productId ?? null],
      )
      // Validate against every zone involved before queueing anything, so a
      // bad range queues nothing rather than part of the products.
      for (const { time_zone } of zones) {
        const h = horizonAt(now, time_zone)
        for (const [field, value] of [['from', req.from], ['to', req.to]] as const) {
          if (value === undefined) continue
          const check = checkDateInHorizon(value, h)
          if (!check.ok) throw new BadRequestError(field, `${value} is ${check.reason === 'past' || check.reason === 'beyond' ? `outside the served horizon ${h.today}..${h.last}` : 'not a valid YYYY-MM-DD date'}`)
        }
        const from = req.from ?? h.today
        const to = req.to ?? h.last
        if (from > to) throw new BadRequestError('from', `from (${from}) is after to (${to})`)
      }
      // One statement for all products, each within its own zone's horizon.
      const r = await pool.query(
        `UPDATE day_fetch_state f SET forced_at = coalesce(f.forced_at, $1)
         FROM product p
         WHERE p.id = f.product_id AND p.active AND ($2::int IS NULL OR p.id = $2)
           AND f.date BETWEEN coalesce($3::date, ($1::timestamptz AT TIME ZONE p.time_zone)::date)
                          AND coalesce($4::date, ($1::timestamptz AT TIME ZONE p.time_zone)::date + $5::int)`,
        [new Date(now), req.productId ?? null, req.from ?? null, req.to ?? null, HORIZON_DAYS - 1],
      )
      const queued = r.rowCount ?? 0
      return { queued }
    },

    async status(): Promise<SyncStatusView> {
      const now = clock.now()
      const at = new Date(now)
      const control = await readControl(pool)
      const paused = await pausedProducts(pool)
      const dayStart = startOfDay(localDate(now, o.timeZone), o.timeZone)
      const [tierRows, products, usage, failing] = await Promise.all([
        // One scan of the horizon, grouped by tier; the totals are summed below.
        pool.query<{ tier: string; total: number; fresh: number; due: number; overdue: number; queue: number; queued: number; in_flight: number; oldest: Date | null; never: number }>(
          `WITH d AS (
             SELECT f.*, p.paused AS product_paused, (f.date - ($1::timestamptz AT TIME ZONE p.time_zone)::date) AS off
             FROM day_fetch_state f JOIN product p ON p.id = f.product_id WHERE p.active)
           SELECT ${TIER_CASE} AS tier, count(*)::int AS total,
                  count(*) FILTER (WHERE d.next_due_at > $1 AND d.forced_at IS NULL)::int AS fresh,
                  count(*) FILTER (WHERE (d.next_due_at <= $1 OR d.forced_at IS NOT NULL) AND d.next_due_at > $1 - (${TARGET_CASE}) * interval '1 millisecond')::int AS due,
                  count(*) FILTER (WHERE d.next_due_at <= $1 - (${TARGET_CASE}) * interval '1 millisecond')::int AS overdue,
                  count(*) FILTER (WHERE (d.next_due_at <= $1 OR d.forced_at IS NOT NULL OR d.claimed_until > $1) AND NOT d.product_paused)::int AS queue,
                  count(*) FILTER (WHERE d.forced_at IS NOT NULL)::int AS queued,
                  count(*) FILTER (WHERE d.claimed_until > $1)::int AS in_flight,
                  min(d.last_fetched_at) AS oldest,
                  count(*) FILTER (WHERE d.last_fetched_at IS NULL)::int AS never
           FROM d WHERE d.off BETWEEN 0 AND 59 GROUP BY 1`,
          [at],
        ),
        pool.query<{ active: number }>('SELECT count(*) FILTER (WHERE active)::int AS active FROM product'),
        o.budget.usage(now, dayStart),
        pool.query<{ product_id: number; failing_days: number; last_success: Date | null; last_error: string | null; last_error_at: Date | null }>(
          `SELECT product_id, max(last_fetched_at) AS last_success,
                  count(*) FILTER (WHERE consecutive_failures > 0)::int AS failing_days,
                  (array_agg(last_error ORDER BY last_attempt_at DESC) FILTER (WHERE consecutive_failures > 0))[1] AS last_error,
                  max(last_attempt_at) FILTER (WHERE consecutive_failures > 0) AS last_error_at
           FROM day_fetch_state GROUP BY product_id
           HAVING count(*) FILTER (WHERE consecutive_failures > 0) > 0
           ORDER BY last_error_at DESC LIMIT 50`,
        ),
      ])
      const tiers: Record<string, TierCounts> = {}
      for (const t of TIERS) tiers[t.name] = { total: 0, fresh: 0, due: 0, overdue: 0 }
      const s = { queue: 0, queued: 0, in_flight: 0, never: 0, oldest: null as Date | null }
      for (const r of tierRows.rows) {
        if (r.tier) tiers[r.tier] = { total: r.total, fresh: r.fresh, due: r.due, overdue: r.overdue }
        s.queue += r.queue
        s.queued += r.queued
        s.in_flight += r.in_flight
        s.never += r.never
        if (r.oldest && (!s.oldest || r.oldest < s.oldest)) s.oldest = r.oldest
      }
      const limit = o.budget.limitPerMinute
      const minutesToday = 24 * 60
      return {
        paused: control.paused,
        pausedProducts: paused,
        running: (o.engine?.state ?? 'disabled') === 'running' && !control.paused,
        queue: s.queue,
        queued: s.queued,
        inFlight: s.in_flight,
        neverFetched: s.never,
        tiers,
        budget: {
          limitPerMinute: limit,
          usedLastMinute: usage.usedInWindow,
          leftThisMinute: Math.max(0, limit - usage.usedInWindow),
          usedToday: usage.usedToday,
          leftToday: Math.max(0, limit * minutesToday - usage.usedToday),
          haltedUntil: usage.haltedUntil ? new Date(usage.haltedUntil).toISOString() : null,
        },
        lastSuccessAt: control.lastSuccessAt ? new Date(control.lastSuccessAt).toISOString() : null,
        lastError: control.lastError && control.lastErrorAt ? { at: new Date(control.lastErrorAt).toISOString(), message: control.lastError } : null,
        oldestServedFetchedAt: s.oldest ? s.oldest.toISOString() : null,
        products: { active: products.rows[0]!.active, paused: paused.length },
        failingProducts: failing.rows.map((f) => ({
          productId: f.product_id,
          failingDays: f.failing_days,
          lastSuccessAt: f.last_success?.toISOString() ?? null,
          lastError: f.last_error,
          lastErrorAt: f.last_error_at?.toISOString() ?? null,
        })),
        partner: o.partner,
      }
    },
  }
}


