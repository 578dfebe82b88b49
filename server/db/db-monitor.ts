import type { Logger } from '../logger.ts'
import { type Availability, liveness, observe, type ProbeOutcome, RECOVERY_GIVE_UP_MS } from './health-state.ts'
import type { LiveView } from './health-types.ts'

export interface DatabaseMonitor {
  /** A probe's outcome (from /ready or the monitor's own round). */
  observe(outcome: ProbeOutcome): void
  /** A request met a database failure: look now rather than at the next round. */
  suspect(): void
  available(): boolean
  live(): LiveView
  start(): void
  stop(): void
}

export interface DatabaseMonitorOptions {
  /** One probe; its outcome comes back through observe() (the health service's onOutcome). */
  probe(): Promise<unknown>
  logger: Pick<Logger, 'info' | 'warn' | 'error'>
  /** The embedded database, which the service restarts itself (see liveness). */
  selfHealing: boolean
  giveUpMs?: number
  /** Between probes while the database answers. */
  everyMs?: number
  /** Between probes while it does not, so recovery is seen (and logged) soon. */
  downEveryMs?: number
  now?: () => number
}

/**
 * Watches the database so that an outage is one record when it starts and
 * one when it ends, whatever the number of requests that meet it, and so
 * that /health knows how long it has lasted.
 */
export function createDatabaseMonitor(o: DatabaseMonitorOptions): DatabaseMonitor {
  const now = o.now ?? Date.now
  const everyMs = o.everyMs ?? 10_000
  const downEveryMs = o.downEveryMs ?? 1_000
  let state: Availability = { available: true, since: now() }
  let timer: NodeJS.Timeout | undefined
  let running = false
  let probing = false
  let lastRoundAt = 0
  let gaveUp = false

  function liveNow(): LiveView {
    return liveness(state, now(), { selfHealing: o.selfHealing, giveUpMs: o.giveUpMs ?? RECOVERY_GIVE_UP_MS })
  }

  async function round(): Promise<void> {
    if (probing) return
    probing = true
    lastRoundAt = now()
    try {
      await o.probe()
    } catch {
      /* the outcome arrives through observe() */
    } finally {
      probing = false
    }
    const live = liveNow()
    if (!live.ok && !gaveUp) o.logger.error({ reason: live.reason }, 'the database did not recover: /health answers 503 so that the service is restarted')
    gaveUp = !live.ok
    schedule()
  }

  function schedule(): void {
    clearTimeout(timer)
    if (!running) return
    timer = setTimeout(() => void round(), state.available ? everyMs : downEveryMs)
    timer.unref()
  }

  return {
    observe(outcome) {
      const { next, change } = observe(state, outcome, now())
      const downMs = state.available ? 0 : now() - state.since
      state = next
      if (change === 'unavailable') o.logger.warn({ reason: outcome.ok ? undefined : outcome.reason }, 'database unavailable')
      if (change === 'available again') {
        o.logger.info({ downMs }, 'database available again')
        gaveUp = false
      }
      if (change) schedule()
    },
    suspect() {
      // At most one extra look a second, however many requests fail.
      if (running && state.available && now() - lastRoundAt >= 1_000) void round()
    },
    available: () => state.available,
    live: liveNow,
    start() {
      running = true
      schedule()
    },
    stop() {
      running = false
      clearTimeout(timer)
    },
  }
}
