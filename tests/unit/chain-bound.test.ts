import { describe, expect, it } from 'vitest'
import { chainModel, type ChainBoundOptions } from '../../bench/chain-bound.ts'
import { solveLp } from '../../bench/lp.ts'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'

const TZ = 'Asia/Singapore'
const H = 3_600_000
// Tuesday 00:00 to 12:00 measured after a 24 h warm-up; every product open on every date.
const START = zonedTimeToInstant('2026-11-30', '00:00', TZ)
const FROM = START + 24 * H
const TO = FROM + 12 * H
const open = (products: number) => ({ openProducts: () => Array.from({ length: products }, (_, i) => i + 1) })

function opts(perMinute: (minute: number) => number, o: Partial<ChainBoundOptions> = {}): ChainBoundOptions {
  const minutes = (TO - START) / 60_000
  return {
    timeZone: TZ,
    start: START,
    from: FROM,
    to: TO,
    perMinute: 0,
    slotMinutes: 30,
    prefilledAt: () => START,
    leftAfterToday: Float64Array.from({ length: minutes + 1 }, (_, i) => perMinute(i)),
    ...o,
  }
}

async function bound(products: number, o: ChainBoundOptions) {
  const model = chainModel(open(products), o)
  const s1 = await solveLp(model.stage1)
  const floor = model.weekByRead(s1.columns)
  const s2 = await solveLp(model.stage2(floor))
  // Days 8–30 never take a read of days 1–7 from stage 1's schedule, at any instant (warm-up included).
  const held = model.weekByRead(s2.columns)
  for (let j = 0; j < floor.length; j++) expect(held[j]).toBeGreaterThanOrEqual(floor[j]! - 1e-6)
  return { week: model.weekMeasured(s2.columns) / model.weekReadsMeasured, month: model.monthFresh(s2.columns) / model.monthReads, model, s2 }
}

describe('chain bound: days charged per day, as a linear program', () => {
  it('keeps every tier fresh when the key has room for all', async () => {
    const b = await bound(
      2,
      opts(() => 10),
    )
    expect(b.week).toBeCloseTo(1, 6)
    expect(b.month).toBeCloseTo(1, 6)
  })

  it('with no budget after the pre-fill, nothing is fresh in the measured window', async () => {
    const b = await bound(
      2,
      opts(() => 0),
    )
    expect(b.week).toBe(0)
    expect(b.month).toBe(0)
  })

  it('a fetch keeps its own day fresh for 4 h of reads and no other day', async () => {
    // One request, in the slot ending at 02:00 on the measured morning: 9 of the 24 half-hour reads of one day.
    const at = (FROM + 2 * H - START) / 60_000
    const b = await bound(
      1,
      opts((i) => (i === at ? 1 : 0)),
    )
    const days17 = 7 // one product open on each of days 1–7
    expect(b.week).toBeCloseTo(9 / (24 * days17), 6)
    expect(b.month).toBeCloseTo(0, 6)
  })

  it('under a tight key, days 8–30 get only what days 1–7 leave at every instant', async () => {
    // 0.12 requests a minute all along: ~29 every 4 h, of which 21 days 1–7 need ~19 (chains of 4 h 30 at 30-min reads),
    // so the 69 days 8–30 get ~60 a day: some, not all.
    const b = await bound(
      3,
      opts(() => 0.12),
    )
    expect(b.week).toBeGreaterThan(0.99)
    expect(b.month).toBeGreaterThan(0)
    expect(b.month).toBeLessThan(1)
    // Held per group of reads (a measured hour's average) instead of per read, days 8–30 can only gain.
    const floor = b.model.weekByRead((await solveLp(b.model.stage1)).columns)
    const grouped = await solveLp(b.model.stage2(floor, 4))
    expect(b.model.monthFresh(grouped.columns) / b.model.monthReads).toBeGreaterThanOrEqual(b.month - 1e-6)
  })

  it('serves days 1–7 before days 8–30, and days 8–30 with what is left', async () => {
    // The whole key for 30 min at 20:00 the evening before: 100 requests.
    const at = (FROM - 4 * H - START) / 60_000
    const b = await bound(
      2,
      opts((i) => (i > at - 30 && i <= at ? 100 / 30 : 0)),
    )
    // Days 1–7 first: fetched at 20:00, tomorrow's 14 are fresh for the read at 00:00 only (4 h after), 1 of 24.
    expect(b.week).toBeCloseTo(1 / 24, 6)
    // Days 8–30 get the rest, fresh through the window: 2 products × 23 dates = 46 days from the 84 left.
    expect(b.month).toBeCloseTo(1, 6)
    const fetched = b.model.hourly(b.s2.columns)[20]!
    expect(fetched.week).toBeCloseTo(16, 4) // Monday's day 1 and days 2–8, two products each
    expect(fetched.month).toBeCloseTo(46, 4)
  })
})
