import type { IsoDate } from '../calendar/days.ts'
import { HORIZON_DAYS } from '../calendar/horizon.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import type { Budget } from './budget.ts'
import type { ClaimedPair } from './claims.ts'
import type { PlanStrategy } from './engine.ts'
import { createClientAllowance, retryAfterS } from './live-limits.ts'
import { fetchDayInto, type WorkerDeps } from './worker.ts'

/**
 * Live checks (public-api.md "Live check"): a read that asks for a day no
 * older than its max age gets it fetched now, through the live lane of the
 * shared budget (lane.ts). The fetch takes the day's claim and is written by
 * the worker exactly as a scheduled fetch is (same validation, same next due
 * time), so live and scheduled fetches of one day never overlap: whoever
 * holds the claim fetches, the other waits for its write.
 */

export type LiveOutcome =
  /** `fetchedAt` within the max age; `fetched`: a partner request was made (or awaited) for it, not the stored day as it was. */
  | { status: 'fresh'; fetchedAt: number; fetched: boolean }
  /** Nothing was sent: the lane is spent or sending halted (`by`), or the client's allowance is. */
  | { status: 'refused'; by: 'lane' | 'halted' | 'client'; retryAfterS: number; fetchedAt: number | null }
  /** A request was due but failed, or could not be made (paused, partner backing off, not a synced day). */
  | { status: 'failed'; reason: string; fetchedAt: number | null }

export interface LiveChecker {
  /**
   * The day's freshness after a live check: fresh at once when the stored
   * day is within `maxAgeMs`; else fetched now (concurrent checks of one day
   * share one request), or refused or failed. `client` (an address) is
   * counted against LIVE_CHECKS_PER_MINUTE when the stored day is too old (a check the stored day meets costs nothing); omitted: not counted.
   */
  check(productId: number, date: IsoDate, maxAgeMs: number, client?: string): Promise<LiveOutcome>
  /**
   * Checks at work now (a query, a request at the partner, a write), not
   * waiting on the clock for a place or another holder: a simulation on a
   * manual clock moves it only when none is.
   */
  readonly busy: number
}

export interface LiveCheckerOptions extends WorkerDeps {
  db: WorkerDeps['db']
  budget: Budget
  clock: Clock
  instanceId: string
  strategy: PlanStrategy
  /** LIVE_CHECKS_PER_MINUTE. */
  perClientPerMinute: number
  /** How long a claim holds (the engine's): a live fetch is a claim like any other. */
  claimTtlMs: number
  /** The partner's timeout: how long a check waits for another holder's fetch of the day, with room for its write. */
  partnerTimeoutMs: number
}

/**
 * How long a check waits for a place in the window when the lane has room
 * but the window is full (another check just took the place scheduled work
 * keeps free; the next place to free is kept for it): the business target
 * for a check's answer, 5 s (issue 27). Beyond it, the stored day at once
 * is worth more to a shopper than a fresh one later. Rare, so the wait
 * costs the p95 little and saves a refusal.
 */
export const LIVE_PLACE_WAIT_MS = 5_000
/** How often a check waiting for another holder's fetch reads the day's state: a fraction of the fastest partner answer (0.3 s). */
const HOLDER_POLL_MS = 100

type DayState = { fetchedAt: number | null; claimedUntil: number | null; fetchable: boolean }

async function dayState(db: Db, productId: number, date: IsoDate, now: number): Promise<DayState | undefined> {
  const rows = await db.$queryRaw<{ fetched_at: Date | null; claimed_until: Date | null; fetchable: boolean }[]>`
    SELECT f.last_fetched_at AS fetched_at, f.claimed_until,
           (p.active AND NOT p.paused AND f.date - (${new Date(now)}::timestamptz AT TIME ZONE p.time_zone)::date BETWEEN 0 AND ${HORIZON_DAYS - 1}) AS fetchable
    FROM day_fetch_state f JOIN product p ON p.id = f.product_id
    WHERE f.product_id = ${productId} AND f.date = ${date}::date`
  const r = rows[0]
  return r && { fetchedAt: r.fetched_at?.getTime() ?? null, claimedUntil: r.claimed_until?.getTime() ?? null, fetchable: r.fetchable }
}

/** Claims one day for a live fetch, inside the budget's transaction; `taken` when another holds it now. */
async function claimDay(
  tx: Db,
  productId: number,
  date: IsoDate,
  o: { instanceId: string; now: number; ttlMs: number },
): Promise<{ pair: ClaimedPair } | { taken: true } | { gone: true }> {
  const at = new Date(o.now)
  const rows = await tx.$queryRaw<{ time_zone: string; consecutive_failures: number }[]>`
    WITH c AS (
      SELECT f.product_id, f.date FROM day_fetch_state f JOIN product p ON p.id = f.product_id
      WHERE f.product_id = ${productId} AND f.date = ${date}::date AND p.active AND NOT p.paused
        AND (f.claimed_until IS NULL OR f.claimed_until < ${at}::timestamptz)
      FOR UPDATE OF f SKIP LOCKED)
    UPDATE day_fetch_state f SET claimed_by = ${o.instanceId}, claimed_until = ${new Date(o.now + o.ttlMs)}
    FROM c, product p
    WHERE f.product_id = c.product_id AND f.date = c.date AND p.id = f.product_id
    RETURNING p.time_zone, f.consecutive_failures`
  const r = rows[0]
  if (r) return { pair: { productId, date, timeZone: r.time_zone, consecutiveFailures: r.consecutive_failures, claimedAt: o.now } }
  const s = await dayState(tx, productId, date, o.now)
  return s?.fetchable ? { taken: true } : { gone: true }
}

export function createLiveChecker(o: LiveCheckerOptions): LiveChecker {
  const allowance = createClientAllowance(o.perClientPerMinute)
  // One fetch per day at a time in this instance: later checks of the day join it.
  const inFlight = new Map<string, Promise<LiveOutcome>>()
  let busy = 0
  const sleep = async (ms: number) => {
    busy--
    try {
      await o.clock.sleep(ms)
    } finally {
      busy++
    }
  }

  /** Waits for another holder's fetch of the day; undefined when it let go without a fresh answer. */
  async function awaitHolder(productId: number, date: IsoDate, maxAgeMs: number): Promise<LiveOutcome | undefined> {
    const until = o.clock.now() + o.partnerTimeoutMs + o.claimTtlMs / 4
    for (;;) {
      await sleep(HOLDER_POLL_MS)
      const now = o.clock.now()
      const s = await dayState(o.db.prisma, productId, date, now)
      if (s?.fetchedAt != null && now - s.fetchedAt <= maxAgeMs) return { status: 'fresh', fetchedAt: s.fetchedAt, fetched: true }
      if (!s || s.claimedUntil === null || s.claimedUntil < now) return undefined
      if (now >= until) return { status: 'failed', reason: 'another fetch of this day did not finish in time', fetchedAt: s.fetchedAt }
    }
  }

  async function fetchNow(productId: number, date: IsoDate, maxAgeMs: number, stored: number | null): Promise<LiveOutcome> {
    const giveUpAt = o.clock.now() + LIVE_PLACE_WAIT_MS
    for (let attempt = 0; ; attempt++) {
      let claimed: Awaited<ReturnType<typeof claimDay>> | undefined
      const permit = await o.budget.permit(async (tx) => {
        claimed = await claimDay(tx, productId, date, { instanceId: o.instanceId, now: o.clock.now(), ttlMs: o.claimTtlMs })
        return 'pair' in claimed ? claimed.pair : undefined
      }, 'live')
      if (permit.granted) {
        // The database failing under the write: the claim expires and the plan fetches the day again; the reader gets the stored day.
        const sent = await fetchDayInto(o, o.strategy, permit.granted, true).catch((err: unknown) => {
          o.logger.error({ productId, date, err: err instanceof Error ? err.message : String(err) }, 'writing a live-checked day failed')
          return { ok: false, changed: false, error: 'writing the fetched day failed' } as const
        })
        if (sent.ok) return { status: 'fresh', fetchedAt: sent.fetchedAt!, fetched: true }
        return { status: 'failed', reason: sent.error ?? 'the partner failed', fetchedAt: stored }
      }
      const wait = Math.max(0, permit.nextAt - permit.now)
      switch (permit.skipped) {
        case 'idle': {
          if (claimed && 'gone' in claimed)
            return { status: 'failed', reason: 'the day is not synced (product paused or removed, or outside the horizon)', fetchedAt: stored }
          const held = await awaitHolder(productId, date, maxAgeMs)
          if (held) return held
          // The holder let go without an answer fresh enough: try once more ourselves.
          if (attempt > 0) return { status: 'failed', reason: 'another fetch of this day failed', fetchedAt: stored }
          continue
        }
        case 'budget':
          if (o.clock.now() + wait <= giveUpAt) {
            await sleep(Math.max(1, wait))
            continue
          }
          return { status: 'refused', by: 'lane', retryAfterS: retryAfterS(wait), fetchedAt: stored }
        case 'lane':
          return { status: 'refused', by: 'lane', retryAfterS: retryAfterS(wait), fetchedAt: stored }
        case 'halted':
          return { status: 'refused', by: 'halted', retryAfterS: retryAfterS(wait), fetchedAt: stored }
        case 'paused':
          return { status: 'failed', reason: 'sync is paused: nothing is sent to the partner', fetchedAt: stored }
        default:
          return { status: 'failed', reason: 'the partner is failing persistently: only probes are sent until it answers', fetchedAt: stored }
      }
    }
  }

  return {
    get busy() {
      return busy
    },
    async check(productId, date, maxAgeMs, client) {
      busy++
      let fetching: Promise<LiveOutcome>
      try {
        const r = await begin(productId, date, maxAgeMs, client)
        if (!('join' in r)) return r
        fetching = r.join
      } finally {
        busy--
      }
      // Waiting for the day's one fetch, which counts itself as busy while it works.
      return fetching
    },
  }

  /** The answer at once, or the day's fetch to wait for (this check's own, or one it joins). */
  async function begin(productId: number, date: IsoDate, maxAgeMs: number, client: string | undefined): Promise<LiveOutcome | { join: Promise<LiveOutcome> }> {
    const now = o.clock.now()
    const s = await dayState(o.db.prisma, productId, date, now)
    if (!s) return { status: 'failed', reason: 'the day is not synced (unknown product or outside the horizon)', fetchedAt: null }
    if (s.fetchedAt !== null && now - s.fetchedAt <= maxAgeMs) return { status: 'fresh', fetchedAt: s.fetchedAt, fetched: false }
    if (client !== undefined) {
      const a = allowance.take(client, now)
      if (!a.ok) return { status: 'refused', by: 'client', retryAfterS: a.retryAfterS, fetchedAt: s.fetchedAt }
    }
    const key = `${productId}|${date}`
    const joined = inFlight.get(key)
    if (joined) return { join: joined }
    busy++
    const p = fetchNow(productId, date, maxAgeMs, s.fetchedAt).finally(() => {
      busy--
      inFlight.delete(key)
    })
    inFlight.set(key, p)
    return { join: p }
  }
}
