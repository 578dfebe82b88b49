/**
 * The partner's rate limit as the contract asks clients to assume it: at most
 * `limit` accepted requests per key in ANY rolling window, here (t − windowMs, t].
 * Written independently of the budget's window rule (partner/rate-window.ts) on purpose: if both shared one
 * function, a bug in it would be invisible to the tests that pit them.
 */
export type LimitDecision = { ok: true } | { ok: false; reset: number }

export interface WindowLimiter {
  take(key: string, now: number): LimitDecision
  /** The most accepted requests any key had in one window since the last reset. */
  maxInAnyWindow(): number
  resetMax(): void
}

export function createWindowLimiter(limit: number, windowMs = 60_000): WindowLimiter {
  const logs = new Map<string, number[]>()
  let max = 0
  return {
    take(key, now) {
      const log = (logs.get(key) ?? []).filter((t) => t > now - windowMs)
      logs.set(key, log)
      if (log.length >= limit) {
        // The oldest of the last `limit` accepted leaves the window at exactly +windowMs.
        return { ok: false, reset: log[log.length - limit]! + windowMs }
      }
      log.push(now)
      max = Math.max(max, log.length)
      return { ok: true }
    },
    maxInAnyWindow: () => max,
    resetMax() {
      max = 0
    },
  }
}
