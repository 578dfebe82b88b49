import type { LiveView } from './health-types.ts'

/**
 * The pure rules behind /ready, /health and the embedded database's
 * supervisor: what a probe's answer does to the availability state, when
 * the service stops claiming it can heal itself, and how long to wait
 * before the next restart of a dead Postgres.
 */

/** The database as the last probes saw it. */
export type Availability = { available: true; since: number } | { available: false; since: number; reason: string }

export type ProbeOutcome = { ok: true } | { ok: false; reason: string }

export type AvailabilityChange = 'unavailable' | 'available again'

/**
 * The state after a probe's outcome at `now`, and the change it makes, if
 * any: only a change deserves a log record. A new reason while still
 * unavailable is no change (a restart attempt failing differently is the
 * supervisor's to say).
 */
export function observe(prev: Availability, outcome: ProbeOutcome, now: number): { next: Availability; change?: AvailabilityChange } {
  if (outcome.ok) return prev.available ? { next: prev } : { next: { available: true, since: now }, change: 'available again' }
  if (!prev.available) return { next: prev }
  return { next: { available: false, since: now, reason: outcome.reason }, change: 'unavailable' }
}

/**
 * How long the embedded database may stay unavailable, dead and restarting
 * or stalled, before /health admits the service cannot heal itself. A
 * restart takes seconds; five minutes of failure means something a new
 * process (which stops and starts its Postgres afresh) or a person must fix.
 */
export const RECOVERY_GIVE_UP_MS = 5 * 60_000

/**
 * Liveness: 503 only when waiting cannot help. The service heals an
 * embedded database it runs itself (`selfHealing`); an outage of a server
 * at DATABASE_URL is not the process's fault and a restart of every
 * instance would not end it, so that keeps /health at 200 (and /ready at 503).
 */
export function liveness(state: Availability, now: number, o: { selfHealing: boolean; giveUpMs?: number }): LiveView {
  const giveUpMs = o.giveUpMs ?? RECOVERY_GIVE_UP_MS
  if (state.available || !o.selfHealing || now - state.since < giveUpMs) return { ok: true }
  return {
    ok: false,
    reason: `the embedded database has been unavailable for ${Math.round((now - state.since) / 1000)} s (${state.reason}); restarting slotsync restarts it`,
  }
}

/**
 * Wait before restart attempt `attempt` (1, 2, ...) of a Postgres that died:
 * 1 s, 2 s, 4 s ... up to 30 s. The first attempts are quick because the
 * usual obstacle, backends of the dead postmaster still holding its shared
 * memory, clears within a second or two.
 */
export function restartDelayMs(attempt: number, o: { baseMs?: number; maxMs?: number } = {}): number {
  const base = o.baseMs ?? 1_000
  const max = o.maxMs ?? 30_000
  return Math.min(max, base * 2 ** Math.max(0, attempt - 1))
}
