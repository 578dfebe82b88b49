import { daysBetween } from '../calendar/days.ts'
import { hash01, hashInt } from './rng.ts'

/**
 * What the catalogue shapes beyond `sample` and `dense` change about a
 * generated product. They exist to measure the sync engine on shapes it was
 * not tuned on (issue 28), so each changes one thing the engine's rules
 * could have assumed: one midnight a day (`zones`), or a steady opening
 * pattern with a handful of slots (`seasonal`).
 */

/**
 * `zones`: the dense shape's products spread round-robin over four zones
 * whose midnights fall far apart in UTC (in December: Auckland 11:00,
 * Singapore 16:00, Paris 23:00, New York 05:00), so a new "today" starts
 * four times a day. None changes its clocks between December and March.
 */
export const SPREAD_ZONES = ['Asia/Singapore', 'Europe/Paris', 'America/New_York', 'Pacific/Auckland'] as const

export function spreadZoneOf(index: number): string {
  return SPREAD_ZONES[index % SPREAD_ZONES.length]!
}

/** A season sits on an absolute 91-day block, so it does not move as the clock advances. */
const SEASON_BLOCK_DAYS = 91

/**
 * `seasonal`: in each 91-day block, three products in five close for a
 * whole season of one to eight weeks and then open again, so within the
 * 60-day horizon a product may be closed now and open later, or the reverse.
 */
export function seasonClosed(seed: number, id: number, date: string): boolean {
  const day = daysBetween('1970-01-01', date)
  const block = Math.floor(day / SEASON_BLOCK_DAYS)
  if (hash01(seed, id, 'season', block) >= 0.6) return false
  const from = hashInt(0, SEASON_BLOCK_DAYS - 7, seed, id, 'season-from', block)
  const length = hashInt(7, 56, seed, id, 'season-len', block)
  const inBlock = day - block * SEASON_BLOCK_DAYS
  return inBlock >= from && inBlock < from + length
}

/** Latest slot start the sandbox generates (the partner's days end at midnight). */
const LATEST_START = 23 * 60 + 30

/**
 * `seasonal`: days of many short slots, 30 to 200 from a morning start every
 * 5, 10 or 15 minutes (well within PARTNER_MAX_SLOTS), as a timed-entry
 * attraction sells them.
 */
export function manySlotMinutes(seed: number, id: number): number[] {
  const wanted = hashInt(30, 200, seed, id, 'many-slots')
  const start = hashInt(12, 20, seed, id, 'many-start') * 30
  const step = [15, 10, 5].find((s) => start + (wanted - 1) * s <= LATEST_START) ?? 5
  const n = Math.min(wanted, Math.floor((LATEST_START - start) / step) + 1)
  return Array.from({ length: n }, (_, i) => start + i * step)
}
