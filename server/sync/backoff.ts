import type { PartnerError } from '../partner/errors.ts'

/**
 * The partner breaker: when the partner itself keeps failing (5xx, timeouts,
 * dropped connections), every instance stops spending the budget on it and
 * sends one probe now and then, until an answer comes back.
 *
 * Why these numbers. At the partner's 30 requests a minute the engine sends
 * one every 2 s, so 5 failures in a row is about 10 s of a partner that does
 * not answer at all; by chance alone, at a 10 % rate of transient failures, 5
 * in a row happen once in 100 000 requests (0.1^5), about once every two days
 * at full speed, and then cost one probe interval. A probe every 30 s is 2
 * requests a minute instead of 30 (1/15 of the budget) against a partner
 * that is down, and notices its return within 30 s.
 */
export const BACKOFF_AFTER_FAILURES = 5
export const PROBE_EVERY_MS = 30_000

/** Failures that say the partner is unwell, as opposed to answers it gave (a 429, a 4xx, a bad body). */
export function isPartnerFailure(error: Pick<PartnerError, 'kind' | 'status'>): boolean {
  if (error.kind === 'timeout' || error.kind === 'network') return true
  return error.kind === 'http' && error.status !== undefined && error.status >= 500
}

export interface BreakerState {
  /** Partner failures in a row, all days and instances. */
  consecutiveFailures: number
  /** When the last probe went out while backing off (null: none yet). */
  lastProbeAt: number | null
}

export type BreakerGate = { state: 'ok'; allowed: true } | { state: 'backing-off'; allowed: boolean; nextProbeAt: number }

/** May one request go out at `now`? Backing off, only one per PROBE_EVERY_MS (pure). */
export function breakerGate(s: BreakerState, now: number): BreakerGate {
  if (s.consecutiveFailures < BACKOFF_AFTER_FAILURES) return { state: 'ok', allowed: true }
  // A probe stamped in the future (another clock) still waits at most one interval.
  const last = s.lastProbeAt === null ? null : Math.min(s.lastProbeAt, now)
  const nextProbeAt = last === null ? now : last + PROBE_EVERY_MS
  return { state: 'backing-off', allowed: nextProbeAt <= now, nextProbeAt: Math.max(now, nextProbeAt) }
}

/** What one answer did to the breaker: a log record is due only on `entered` and `left`. */
export type BreakerChange = 'entered' | 'left' | undefined

/** The transition when the count moves from `before` to `after` (pure). */
export function breakerChange(before: number, after: number): BreakerChange {
  const was = before >= BACKOFF_AFTER_FAILURES
  const is = after >= BACKOFF_AFTER_FAILURES
  return was === is ? undefined : is ? 'entered' : 'left'
}
