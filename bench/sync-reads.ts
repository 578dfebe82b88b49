/**
 * What a shopper's read gets, judged: pure rules and accumulators for the
 * simulation's demand reads (bench/sync-shopper.ts draws and performs them).
 *
 * - Read-weighted freshness: each read is classed by its stored day as the
 *   uniform sample classes days (sync-sim.ts SAMPLE_SQL) and counted within
 *   its tier's target or not, so a tier's figure is the share of reads, not
 *   of days.
 * - Bookable accuracy: a read is right when every slot's bookability for a
 *   party of 2 and, where bookable, its price are what the partner would
 *   answer at that instant.
 * - Live checks: how many were answered fresh, and how long they took.
 */
import type { SlotView } from '../server/availability/types.ts'
import { HOUR, TIERS } from '../server/sync/tiers.ts'

/** The party a shopper books for: two people, the most common party size the issue asks about. */
export const PARTY = 2

export const READ_TIERS = ['today', 'week', 'month', 'closed'] as const
export type ReadTier = (typeof READ_TIERS)[number]

/** Each tier's target (tiers.ts); a closed day's re-check at 24 h, as the uniform sample counts it. */
export const READ_TARGET_MS: Record<ReadTier, number> = {
  today: TIERS[0].targetMs,
  week: TIERS[1].targetMs,
  month: TIERS[2].targetMs,
  closed: 24 * HOUR,
}

/** A read day's fetch state, as day_fetch_state holds it. */
export interface ReadState {
  offset: number
  /** last_outcome; null when never fetched. */
  outcome: string | null
  fetchedAt: number | null
  /** The instant the day's last stored slot starts; null when it has none. */
  lastSlotAt: number | null
}

/**
 * The tier a read counts in, or undefined when the uniform sample counts no
 * such day either (days 31–59, today after its last slot, never fetched,
 * a failed last fetch): same classes, so the two figures compare.
 */
export function readTier(s: ReadState, now: number): ReadTier | undefined {
  if (s.outcome === 'empty' && s.offset >= 0 && s.offset <= 59) return 'closed'
  if (s.outcome !== 'ok') return undefined
  if (s.offset === 0) return s.lastSlotAt !== null && s.lastSlotAt > now ? 'today' : undefined
  if (s.offset >= 1 && s.offset <= 7) return 'week'
  if (s.offset >= 8 && s.offset <= 30) return 'month'
  return undefined
}

export function withinTarget(s: ReadState, tier: ReadTier, now: number): boolean {
  return s.fetchedAt !== null && now - s.fetchedAt <= READ_TARGET_MS[tier]
}

export interface TierShare {
  reads: number
  within: number
  /** within / reads; null without reads. */
  share: number | null
}

/** Read-weighted freshness: reads counted per tier. */
export function readFreshness() {
  const acc = Object.fromEntries(READ_TIERS.map((t) => [t, { reads: 0, within: 0 }])) as Record<ReadTier, { reads: number; within: number }>
  let outside = 0
  return {
    add(s: ReadState, now: number) {
      const tier = readTier(s, now)
      if (!tier) {
        outside++
        return
      }
      acc[tier].reads++
      if (withinTarget(s, tier, now)) acc[tier].within++
    },
    /** Per tier, and the reads no tier counts. */
    result(): Record<ReadTier, TierShare> & { outside: number } {
      const tiers = Object.fromEntries(READ_TIERS.map((t) => [t, { ...acc[t], share: acc[t].reads ? acc[t].within / acc[t].reads : null }]))
      return { ...(tiers as Record<ReadTier, TierShare>), outside }
    },
  }
}

/**
 * Whether a party of `party` can book this slot at `now`, in the public
 * API's terms: it has not started (the partner stops selling a slot at its
 * start: OCTO's `utcCutoffAt`), it has a price (a slot without pax types
 * cannot be sold), `remaining` seats for the party, and its primary pax type
 * (listed first; its price is the slot's) has them too within its min/max.
 */
export function bookable(slot: SlotView, startsAt: number, now: number, party = PARTY): boolean {
  if (startsAt <= now || slot.price === null || slot.remaining < party) return false
  const primary = slot.paxAvailability[0]
  return primary !== undefined && primary.remaining >= party && primary.min <= party && party <= primary.max
}

const samePrice = (a: SlotView['price'], b: SlotView['price']) =>
  a !== null && b !== null && a.finalPrice === b.finalPrice && a.originalPrice === b.originalPrice && a.currencyCode === b.currencyCode

export interface BookableComparison {
  /** Every slot's bookability equal, and the price of every slot bookable on both sides. */
  agree: boolean
  /** Slots served bookable that the partner would not sell (sold out, started, gone). */
  phantom: number
  /** Slots the partner sells that the served day shows not bookable or lacks. */
  hidden: number
  /** Slots bookable on both sides at different prices. */
  wrongPrice: number
}

/** A served day against the partner's day at `now`, slots matched by the partner's slot id. */
export function compareBookable(
  served: readonly SlotView[],
  truth: readonly SlotView[],
  startOf: (s: SlotView) => number,
  now: number,
  party = PARTY,
): BookableComparison {
  const truthById = new Map(truth.map((s) => [s.providerSlotId, s]))
  const out = { phantom: 0, hidden: 0, wrongPrice: 0 }
  const seen = new Set<string>()
  for (const s of served) {
    seen.add(s.providerSlotId)
    const t = truthById.get(s.providerSlotId)
    const sb = bookable(s, startOf(s), now, party)
    const tb = t !== undefined && bookable(t, startOf(t), now, party)
    if (sb && !tb) out.phantom++
    else if (!sb && tb) out.hidden++
    else if (sb && tb && !samePrice(s.price, t!.price)) out.wrongPrice++
  }
  for (const t of truth) if (!seen.has(t.providerSlotId) && bookable(t, startOf(t), now, party)) out.hidden++
  return { agree: out.phantom + out.hidden + out.wrongPrice === 0, ...out }
}

export interface BookableResult {
  reads: number
  /** Share of reads where compareBookable agrees. */
  accuracy: number
  /** Reads with at least one slot of each kind of error. */
  withPhantom: number
  withHidden: number
  withWrongPrice: number
  /** Reads of a day never fetched (the service answers `never`). */
  neverFetched: number
}

export function bookableAccuracy() {
  const r = { reads: 0, agree: 0, withPhantom: 0, withHidden: 0, withWrongPrice: 0, neverFetched: 0 }
  return {
    add(c: BookableComparison, neverFetched: boolean) {
      r.reads++
      if (c.agree) r.agree++
      if (c.phantom) r.withPhantom++
      if (c.hidden) r.withHidden++
      if (c.wrongPrice) r.withWrongPrice++
      if (neverFetched) r.neverFetched++
    },
    result(): BookableResult {
      const { agree, ...rest } = r
      return { ...rest, accuracy: agree / Math.max(1, r.reads) }
    },
  }
}

/** Nearest-rank percentile of `values` (0 < p ≤ 1); null when empty. */
export function percentile(values: readonly number[], p: number): number | null {
  if (!values.length) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1]!
}

export interface LiveResult {
  perHour: number
  maxAgeS: number
  checks: number
  /** Checks with an answer by the end of the run. */
  answered: number
  /** Share of all checks answered with a day fetched within the max age. */
  fresh: number
  /** Simulated time from a check to its answer, over answered checks. */
  p50Ms: number | null
  p95Ms: number | null
  maxMs: number | null
  /** Answers by the state the checker named (fresh, refused, failed, ...). */
  states: Record<string, number>
}

export function liveStats(o: Pick<LiveResult, 'perHour' | 'maxAgeS'>) {
  const latencies: number[] = []
  const states: Record<string, number> = {}
  let checks = 0
  let fresh = 0
  return {
    started() {
      checks++
    },
    answered(latencyMs: number, r: { fresh: boolean; state?: string }) {
      latencies.push(latencyMs)
      if (r.fresh) fresh++
      const state = r.state ?? (r.fresh ? 'fresh' : 'stale')
      states[state] = (states[state] ?? 0) + 1
    },
    result(): LiveResult {
      return {
        ...o,
        checks,
        answered: latencies.length,
        fresh: fresh / Math.max(1, checks),
        p50Ms: percentile(latencies, 0.5),
        p95Ms: percentile(latencies, 0.95),
        maxMs: latencies.length ? Math.max(...latencies) : null,
        states,
      }
    },
  }
}
