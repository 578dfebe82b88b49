/**
 * The per-client allowance of live checks (LIVE_CHECKS_PER_MINUTE): a
 * sliding-window log per client address, in memory (a client's checks reach
 * one instance per connection; the partner budget itself is shared through
 * the database). Pure arithmetic plus a map the caller owns.
 */

/** The allowance's window: a business target in checks a minute. */
export const CLIENT_WINDOW_MS = 60_000

/** Whether one more check may start at `now` given the client's check times (ascending), and when it could otherwise. */
export function allowCheck(times: readonly number[], now: number, perMinute: number): { ok: true } | { ok: false; retryAfterS: number } {
  const inWindow = times.filter((t) => t > now - CLIENT_WINDOW_MS)
  if (inWindow.length < perMinute) return { ok: true }
  // The check that frees a place is the perMinute-th most recent.
  const freesAt = inWindow[inWindow.length - perMinute]! + CLIENT_WINDOW_MS
  return { ok: false, retryAfterS: retryAfterS(freesAt - now) }
}

/** Whole seconds for a Retry-After header: at least 1, rounded up. */
export function retryAfterS(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}

export interface ClientAllowance {
  /** Takes one check for `client` at `now`, or says when to retry. */
  take(client: string, now: number): { ok: true } | { ok: false; retryAfterS: number }
}

export function createClientAllowance(perMinute: number): ClientAllowance {
  const log = new Map<string, number[]>()
  let lastSweep = 0
  return {
    take(client, now) {
      // Forget quiet clients now and then, so the map holds only the last minute's.
      if (now - lastSweep > CLIENT_WINDOW_MS) {
        for (const [k, ts] of log) if (!ts.length || ts[ts.length - 1]! <= now - CLIENT_WINDOW_MS) log.delete(k)
        lastSweep = now
      }
      const times = (log.get(client) ?? []).filter((t) => t > now - CLIENT_WINDOW_MS)
      const r = allowCheck(times, now, perMinute)
      if (r.ok) times.push(now)
      log.set(client, times)
      return r
    },
  }
}
