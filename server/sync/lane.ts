import { nextSendAt } from '../partner/rate-window.ts'
import { grantFromWindow, type Grant, type WindowState } from './budget.ts'
import { SLICE_MS } from './policy/plan.ts'

/**
 * The live lane of the partner budget (public-api.md "Live check",
 * SYNC_LIVE_SHARE). Pure. The rule, for every window of `windowMs`, over the
 * sends of every instance (partner_request):
 *
 * 1. Any send, live or scheduled, needs a free place: sends in the window <
 *    limit. So the partner never counts more than the limit, whatever the
 *    mix of live and scheduled requests (no 429 from the mix).
 * 2. A live send also needs room in the lane: live sends in the window <
 *    liveCap = ⌊limit × share⌋. It is not spread by the burst cap (that is
 *    for scheduled work): a shopper is waiting for it.
 * 3. While checks come (a live send, or a check asking for a place, within
 *    `LIVE_ACTIVE_MS`), a scheduled send leaves `keep` places free, keep =
 *    min(1, liveCap − live sends in the window): one place for the next live check while the lane has
 *    room, none once it is spent. So a live check goes out the moment it
 *    arrives, and every other place the lane does not use (liveCap − live −
 *    keep) is sent as scheduled work in the same window. While none come,
 *    nothing is kept: a service nobody live-checks spends its whole key on
 *    the plan, and the first check after a quiet spell waits for the place
 *    its ask makes scheduled work leave (the next to free).
 *
 * What the lane takes from scheduled work is therefore the live sends plus,
 * while checks come, the one kept place: `laneReserve` is what the plan
 * counts for it.
 */

/** How long after a live send the lane keeps a place: the span the plan reads the live rate over (its slice), so the place and the plan's reservation for it start and end together. */
export const LIVE_ACTIVE_MS = SLICE_MS

export type Lane = 'live' | 'scheduled'

export interface LaneWindow extends WindowState {
  /** Live send times inside the window ending now, ascending (a subset of `sent`). */
  live: readonly number[]
  /** SYNC_LIVE_SHARE: the share of the limit live checks may use per window. */
  liveShare: number
  /** Whether a live request was sent, or a check asked for a place, within LIVE_ACTIVE_MS (rule 3 keeps a place only then). */
  liveActive: boolean
}

export interface LaneGrant extends Grant {
  /** Why nothing was granted: the lane is spent (live only), or the window (or a halt) has no place. */
  refusedBy?: 'lane' | 'window'
}

/** Live sends a window may hold: the share of the limit, rounded down (a share below one request is no lane). */
export function liveCap(limit: number, share: number): number {
  // The epsilon keeps 30 × 0.2 at 6 whatever the float rounding.
  return Math.max(0, Math.floor(limit * share + 1e-9))
}

/** Places a scheduled send leaves free in the window now (rule 3). */
export function keptForLive(limit: number, share: number, liveInWindow: number, active: boolean): number {
  if (!active) return 0
  return Math.min(1, Math.max(0, liveCap(limit, share) - liveInWindow))
}

/** Whether one request of `lane` may go out at `now` (pure), and when the next could. */
export function grantLane(s: LaneWindow, lane: Lane): LaneGrant {
  const inWindow = s.sent.filter((t) => t > s.now - s.windowMs)
  const live = s.live.filter((t) => t > s.now - s.windowMs)
  if (lane === 'scheduled') {
    const keep = keptForLive(s.limit, s.liveShare, live.length, s.liveActive)
    const g = grantFromWindow({ ...s, sent: inWindow, limit: s.limit - keep }, 1)
    return g.granted ? g : { ...g, refusedBy: 'window' }
  }
  const used = { granted: 0, usedInWindow: inWindow.length }
  if (s.haltedUntil !== null && s.haltedUntil > s.now) return { ...used, nextAt: s.haltedUntil, refusedBy: 'window' }
  const cap = liveCap(s.limit, s.liveShare)
  if (live.length >= cap) {
    // Spent: the lane has room again when its oldest send leaves the window.
    const nextAt = cap === 0 ? Number.POSITIVE_INFINITY : Math.max(nextSendAt(live, s.now, cap, s.windowMs), nextSendAt(inWindow, s.now, s.limit, s.windowMs))
    return { ...used, nextAt, refusedBy: 'lane' }
  }
  if (inWindow.length >= s.limit) return { ...used, nextAt: nextSendAt(inWindow, s.now, s.limit, s.windowMs), refusedBy: 'window' }
  return { granted: 1, nextAt: s.now, usedInWindow: inWindow.length + 1 }
}

/**
 * What the lane takes from scheduled work a minute, for the plan
 * (policy/plan.ts `livePerMinute`): the live sends expected in a window
 * (the recent rate: `recentLive` sends over the last `spanMs`) plus the
 * place rule 3 keeps while checks come, at most the lane's share. Not the
 * whole share: what the lane leaves unused is scheduled work's.
 */
export function laneReservePerMinute(o: { recentLive: number; spanMs: number; limit: number; share: number; windowMs: number }): number {
  const cap = liveCap(o.limit, o.share)
  if (cap === 0 || o.recentLive === 0) return 0
  const expected = o.spanMs > 0 ? (o.recentLive * o.windowMs) / o.spanMs : 0
  return (Math.min(cap, expected + 1) * 60_000) / o.windowMs
}
