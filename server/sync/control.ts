import { localDate, startOfDay } from '../calendar/days.ts'
import { checkDateInHorizon, HORIZON_DAYS, horizonAt } from '../calendar/horizon.ts'
import type { Clock } from '../clock.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import type { RunRequest, SyncService, SyncStateView, SyncStatusView } from './types.ts'
import { Prisma, type Db, type PrismaClient } from '../db/client.ts'
import { transaction, TX } from '../db/transaction.ts'
import { DISPATCH_LOCK_KEY, usablePerMinute, type Budget } from './budget.ts'
import { breakerGate, type BreakerState } from './backoff.ts'
import { maintainHorizon } from './claims.ts'
import { readControl } from './control-state.ts'
import { TIERS } from './tiers.ts'
import { readHorizonCounts } from './horizon-counts.ts'

export interface SyncControlOptions {
  prisma: PrismaClient
  clock: Clock
  budget: Budget
  /** The zone whose calendar day "today" means for the budget's daily count. */
  timeZone: string
  partner: { baseUrl: string; sandbox: boolean }
  /** This instance's engine: its state for status, and told to plan again after a pause or resume (other instances re-plan within their minute). */
  engine?: { readonly state: string; readonly inFlight: number; replanSoon?(): void }
}

async function assertProduct(db: Db, productId: number): Promise<void> {
  const found = await db.product.findUnique({ where: { id: productId }, select: { id: true } })
  if (!found) throw new NotFoundError(`product ${productId} is not known to slotsync`)
}

async function pausedProducts(db: Db): Promise<number[]> {
  const rows = await db.product.findMany({ where: { paused: true }, select: { id: true }, orderBy: { id: 'asc' } })
  return rows.map((r) => r.id)
}

/** Host (and port) only: a URL may carry credentials or a path that is nobody's business. */
export function partnerHost(baseUrl: string): string {
  try {
    return new URL(baseUrl).host
  } catch {
    return 'unknown'
  }
}

/**
 * When a "run now" backlog will be fetched: it gets what the budget leaves
 * after today's open days, each due every target (policy/rank.ts ranks
 * today first; the lead's seconds of a 15-min target are below this
 * estimate's precision). Pure, so the estimate is testable.
 */
export function runEta(o: { queued: number; openToday: number; limitPerMinute: number; windowMs: number; now: number }): number | null {
  if (!o.queued) return null
  const today = TIERS[0]
  const perMinute = usablePerMinute(o)
  const todayNeed = (o.openToday * 60_000) / today.targetMs
  const left = Math.max(perMinute * 0.05, perMinute - todayNeed)
  return o.now + Math.ceil((o.queued / left) * 60_000)
}

/** The breaker as status shows it (backoff.ts). */
export function partnerState(b: BreakerState, now: number): Pick<SyncStatusView['partner'], 'state' | 'consecutiveFailures' | 'nextProbeAt'> {
  const g = breakerGate(b, now)
  return {
    state: g.state,
    consecutiveFailures: b.consecutiveFailures,
    nextProbeAt: g.state === 'backing-off' ? new Date(g.nextProbeAt).toISOString() : null,
  }
}

/**
 * Pause, resume, "run now" and status: the sync engine's controls, kept in
 * the database so they hold for every instance and survive restarts.
 */
export function createSyncControl(o: SyncControlOptions): SyncService {
  const { prisma, clock } = o

  async function stateView(productId?: number): Promise<SyncStateView> {
    const c = await readControl(prisma)
    const paused = await pausedProducts(prisma)
    const view: SyncStateView = {
      paused: productId === undefined ? c.paused : c.paused || paused.includes(productId),
      changedAt: new Date(c.changedAt).toISOString(),
      pausedProducts: paused,
      haltedUntil: c.haltedUntil !== null && c.haltedUntil > clock.now() ? new Date(c.haltedUntil).toISOString() : null,
    }
    if (productId !== undefined) view.productId = productId
    return view
  }

  async function setPaused(paused: boolean, productId?: number): Promise<SyncStateView> {
    const at = new Date(clock.now())
    if (productId !== undefined) await assertProduct(prisma, productId)
    await transaction(prisma, TX.control, async (tx) => {
      // Waits for any send decision in progress on any instance; every later one sees the new state.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${DISPATCH_LOCK_KEY})`
      // updateMany: no error when the row is gone (a product removed meanwhile), as a plain UPDATE.
      if (productId === undefined) {
        // A global resume also lifts a 429's halt and the partner breaker: the operator says "send now".
        const lift = paused ? {} : { haltedUntil: null, partnerFailures: 0, partnerProbeAt: null }
        await tx.syncControl.updateMany({ where: { id: 1 }, data: { paused, reason: paused ? 'paused through the API' : null, changedAt: at, ...lift } })
      } else {
        await tx.product.updateMany({ where: { id: productId }, data: { paused, pausedAt: paused ? at : null, updatedAt: at } })
      }
    })
    o.engine?.replanSoon?.()
    return stateView(productId)
  }

  return {
    pause: (productId) => setPaused(true, productId),
    resume: (productId) => setPaused(false, productId),

    async run(req: RunRequest) {
      const now = clock.now()
      if (req.productId !== undefined) await assertProduct(prisma, req.productId)
      // The horizon rows must exist before they can be queued (a product added a moment ago).
      await maintainHorizon(prisma, now)
      const zones = await prisma.product.findMany({ where: { active: true, id: req.productId }, select: { timeZone: true }, distinct: ['timeZone'] })
      // Validate against every zone involved before queueing anything, so a
      // bad range queues nothing rather than part of the products.
      for (const { timeZone } of zones) {
        const h = horizonAt(now, timeZone)
        for (const [field, value] of [
          ['from', req.from],
          ['to', req.to],
        ] as const) {
          if (value === undefined) continue
          const check = checkDateInHorizon(value, h)
          if (!check.ok)
            throw new BadRequestError(
              field,
              `${value} is ${check.reason === 'past' || check.reason === 'beyond' ? `outside the served horizon ${h.today}..${h.last}` : 'not a valid YYYY-MM-DD date'}`,
            )
        }
        const from = req.from ?? h.today
        const to = req.to ?? h.last
        if (from > to) throw new BadRequestError('from', `from (${from}) is after to (${to})`)
      }
      // One statement for all products, each within its own zone's horizon.
      const at = new Date(now)
      const queued = await prisma.$executeRaw`
        UPDATE day_fetch_state f SET forced_at = coalesce(f.forced_at, ${at})
        FROM product p
        WHERE p.id = f.product_id AND p.active ${req.productId === undefined ? Prisma.empty : Prisma.sql`AND p.id = ${req.productId}`}
          AND f.date BETWEEN coalesce(${req.from ?? null}::date, (${at}::timestamptz AT TIME ZONE p.time_zone)::date)
                         AND coalesce(${req.to ?? null}::date, (${at}::timestamptz AT TIME ZONE p.time_zone)::date + ${HORIZON_DAYS - 1}::int)`
      return { queued }
    },

    async status(): Promise<SyncStatusView> {
      const now = clock.now()
      const at = new Date(now)
      const dayStart = startOfDay(localDate(now, o.timeZone), o.timeZone)
      const [s, controlRows, usage, failing] = await Promise.all([
        readHorizonCounts(prisma, at),
        prisma.$queryRaw<
          {
            paused: boolean | null
            last_success_at: Date | null
            last_error: string | null
            last_error_at: Date | null
            active: number
            paused_ids: number[]
          }[]
        >`
          SELECT c.paused, c.last_success_at, c.last_error, c.last_error_at,
                 (SELECT count(*)::int FROM product WHERE active) AS active,
                 ARRAY(SELECT id FROM product WHERE paused ORDER BY id) AS paused_ids
          FROM (SELECT 1) one LEFT JOIN sync_control c ON c.id = 1`,
        o.budget.usage(dayStart),
        // Failing days first (few), then each such product's last success through the primary key.
        prisma.$queryRaw<{ product_id: number; failing_days: number; last_success: Date | null; last_error: string | null; last_error_at: Date | null }[]>`
          WITH failing AS (
            SELECT product_id, count(*)::int AS failing_days,
                   (array_agg(last_error ORDER BY last_attempt_at DESC))[1] AS last_error, max(last_attempt_at) AS last_error_at
            FROM day_fetch_state WHERE consecutive_failures > 0 GROUP BY product_id ORDER BY last_error_at DESC LIMIT 50)
          SELECT failing.*, (SELECT max(last_fetched_at) FROM day_fetch_state d WHERE d.product_id = failing.product_id) AS last_success
          FROM failing ORDER BY last_error_at DESC`,
      ])
      const c = controlRows[0]!
      const limit = o.budget.limitPerMinute
      const minutesToday = 24 * 60
      const etaAt = runEta({ queued: s.queued, openToday: s.openToday, limitPerMinute: limit, windowMs: o.budget.windowMs, now })
      return {
        paused: c.paused ?? false,
        pausedProducts: c.paused_ids,
        running: (o.engine?.state ?? 'disabled') === 'running' && !c.paused,
        queue: s.queue,
        queued: s.queued,
        inFlight: s.inFlight,
        neverFetched: s.never,
        tiers: s.tiers,
        run: { queued: s.queued, etaAt: etaAt === null ? null : new Date(etaAt).toISOString() },
        budget: {
          limitPerMinute: limit,
          usedLastMinute: usage.usedInWindow,
          leftThisMinute: Math.max(0, limit - usage.usedInWindow),
          usedToday: usage.usedToday,
          leftToday: Math.max(0, limit * minutesToday - usage.usedToday),
          haltedUntil: usage.haltedUntil ? new Date(usage.haltedUntil).toISOString() : null,
        },
        lastSuccessAt: c.last_success_at?.toISOString() ?? null,
        lastError: c.last_error && c.last_error_at ? { at: c.last_error_at.toISOString(), message: c.last_error } : null,
        oldestServedFetchedAt: s.oldest ? s.oldest.toISOString() : null,
        products: { active: c.active, paused: c.paused_ids.length },
        failingProducts: failing.map((f) => ({
          productId: f.product_id,
          failingDays: f.failing_days,
          lastSuccessAt: f.last_success?.toISOString() ?? null,
          lastError: f.last_error,
          lastErrorAt: f.last_error_at?.toISOString() ?? null,
        })),
        partner: { host: partnerHost(o.partner.baseUrl), sandbox: o.partner.sandbox, ...partnerState(usage.breaker, usage.now) },
      }
    },
  }
}
