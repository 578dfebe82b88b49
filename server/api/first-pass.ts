import { usablePerMinute } from '../sync/budget.ts'
import { TIERS } from '../sync/tiers.ts'
import type { ApiServices, FirstPass, Services, SyncStatusAnswer, SyncStatusView } from './services.ts'

/**
 * The first pass (every (product, day) pair of the horizon fetched once) as
 * sync/status reports it: progress, and when it should end. At the default
 * limit a sandbox catalogue's first pass takes most of two hours, and the
 * days not fetched yet answer as if nothing were on sale, so a reader needs
 * to know how far it is and how long it has to go.
 */

export interface PaceSample {
  /** Epoch ms. */
  at: number
  neverFetched: number
}

/** How far back the observed pace looks, and the least span it needs to mean anything. */
export const PACE_WINDOW_MS = 10 * 60_000
export const PACE_MIN_SPAN_MS = 60_000
const SAMPLE_EVERY_MS = 5_000

const TODAY = TIERS.find((t) => t.name === 'today')!

export interface FirstPassInput {
  status: SyncStatusView
  now: number
  /** Readings of `neverFetched`, oldest first, the last one the current (createPaceTracker gives them). */
  samples: readonly PaceSample[]
  /** The partner budget's window (60 s plus SYNC_BUDGET_MARGIN_MS): limit per window is what can be sent. */
  budgetWindowMs: number
}

/**
 * Pure: progress from the status' counts; the pace from how fast
 * `neverFetched` fell over the samples when they span a minute or more,
 * else from the budget less what refreshing today's days takes (today goes
 * first, again every time its target age comes, for the whole pass).
 */
export function estimateFirstPass(i: FirstPassInput): FirstPass {
  const s = i.status
  const never = s.neverFetched
  const pairs = Math.max(
    never,
    Object.values(s.tiers).reduce((a, t) => a + t.total, 0),
  )
  const base = { pairs, fetched: pairs - never, neverFetched: never }
  const first = i.samples[0]
  let perMinute: number
  let pace: FirstPass['pace']
  if (first && i.now - first.at >= PACE_MIN_SPAN_MS) {
    pace = 'observed'
    perMinute = Math.max(0, ((first.neverFetched - never) * 60_000) / (i.now - first.at))
  } else {
    pace = 'budget'
    const todayRefresh = ((s.tiers[TODAY.name]?.total ?? 0) * 60_000) / TODAY.targetMs
    perMinute = Math.max(0, usablePerMinute({ limitPerMinute: s.budget.limitPerMinute, windowMs: i.budgetWindowMs }) - todayRefresh)
  }
  perMinute = Math.round(perMinute * 10) / 10
  // Not `running`: that is this instance's engine, and another instance may be the one syncing (the observed pace tells).
  const advancing = never > 0 && perMinute > 0 && !s.paused
  return { ...base, perMinute, pace, etaAt: advancing ? new Date(i.now + (never / perMinute) * 60_000).toISOString() : null }
}

/**
 * Keeps the last PACE_WINDOW_MS of `neverFetched` readings (one per
 * SAMPLE_EVERY_MS) from the status reads this instance serves, so the pace
 * is observed without a table of its own; a rise (a new day entered the
 * horizon, a product was added) starts the readings over, and so does a
 * pause (its flat stretch is no pace).
 */
export function createPaceTracker() {
  let kept: PaceSample[] = []
  return {
    /** Records a reading; answers the readings to estimate from, this one last. */
    observe(at: number, neverFetched: number): PaceSample[] {
      const last = kept.at(-1)
      if (last && (neverFetched > last.neverFetched || at < last.at)) kept = []
      if (!kept.length || at - kept.at(-1)!.at >= SAMPLE_EVERY_MS) kept.push({ at, neverFetched })
      while (kept.length > 1 && kept[0]!.at < at - PACE_WINDOW_MS) kept.shift()
      return kept.at(-1)!.at === at ? [...kept] : [...kept, { at, neverFetched }]
    },
    reset(): void {
      kept = []
    },
  }
}

/** The services with `firstPass` added to sync status. */
export function withFirstPass(services: Services, o: { budgetWindowMs: number; now: () => number }): ApiServices {
  const pace = createPaceTracker()
  // One answer per status read: callers sharing a read (shared-read.ts) get the same object, as they did before.
  const answers = new WeakMap<SyncStatusView, SyncStatusAnswer>()
  return {
    ...services,
    sync: {
      ...services.sync,
      async status() {
        const status = await services.sync.status()
        let answer = answers.get(status)
        if (!answer) {
          const now = o.now()
          if (status.paused) pace.reset()
          const samples = pace.observe(now, status.neverFetched)
          answer = { ...status, firstPass: estimateFirstPass({ status, now, samples, budgetWindowMs: o.budgetWindowMs }) }
          answers.set(status, answer)
        }
        return answer
      },
    },
  }
}
