import { describe, expect, it } from 'vitest'
import { addDays, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { rankDue, SWEEP_DEFER_MS, type Candidate } from '../../server/sync/planner.ts'
import { REPHASE_SCORE, rankRephase, rephaseWindow, rephaseWindows, withRephase } from '../../server/sync/rephase.ts'
import { HOUR, MINUTE, TIERS } from '../../server/sync/tiers.ts'

const TZ = 'Asia/Singapore'
const TODAY = '2026-11-30' // the dense catalogue's light Monday before a crunch
const at = (time: string, date = TODAY) => zonedTimeToInstant(date, time, TZ)
const PERIOD = TIERS[1].targetMs - TIERS[1].leadMs // 3 h 55 min
/** A crunch ahead, the sweep opening 1 h 50 min before midnight (22:10). */
const CTX = { sweep: true, sweepMs: 110 * MINUTE }
const SWEEP_OPENS = at('22:10')
/** Chains stop an hour before the sweep (planner.ts `SWEEP_DEFER_MS`): a refresh due from 21:10 waits for it. */
const CHAIN_END = SWEEP_OPENS - SWEEP_DEFER_MS
const NOON = at('12:00')
const todayOf = () => TODAY

/** Refreshes a day makes before the sweep from a fetch (or due time) at `first`: first, first + P, … before it. */
function chain(first: number): number[] {
  const out: number[] = []
  for (let t = first; t < CHAIN_END; t += PERIOD) out.push(t)
  return out
}
/** Fetched now (then every period) instead of at its due time: how many requests, and how many after noon. */
function costs(now: number, due: number) {
  const before = chain(due)
  const after = chain(now)
  return {
    same: after.length === before.length,
    afternoonSaved: before.filter((t) => t >= NOON).length - after.filter((t) => t >= NOON).length,
  }
}

describe('rephaseWindow', () => {
  it('07:00: days due 08:05-09:25 cost the same fetched now, and one of their refreshes leaves the afternoon', () => {
    const w = rephaseWindow(at('07:00'), TODAY, TZ, CTX)!
    expect(w).toEqual({ from: NOON - PERIOD, to: CHAIN_END - 3 * PERIOD })
    expect([w.from, w.to]).toEqual([at('08:05'), at('09:25')])
    // Due at 08:30: 08:30, 12:25, 16:20, 20:15 before the chain ends; fetched at 07:00: 07:00, 10:55, 14:50, 18:45.
    expect(costs(at('07:00'), at('08:30'))).toEqual({ same: true, afternoonSaved: 1 })
  })

  it('10:30: days due from noon to 13:20', () => {
    expect(rephaseWindow(at('10:30'), TODAY, TZ, CTX)).toEqual({ from: NOON, to: at('13:20') })
  })

  it('matches counting the chains minute by minute: the window is exactly the due times that save an afternoon request at no cost', () => {
    let checked = 0
    for (let now = at('00:00'); now < NOON; now += 7 * MINUTE) {
      const w = rephaseWindow(now, TODAY, TZ, CTX)
      for (let due = now + MINUTE; due <= now + PERIOD; due += 3 * MINUTE) {
        const c = costs(now, due)
        const worth = c.same && c.afternoonSaved > 0
        expect(w !== undefined && due >= w.from && due < w.to, `now ${new Date(now).toISOString()} due ${new Date(due).toISOString()}`).toBe(worth)
        // Never more than one request saved, never one spent.
        if (c.same) expect(c.afternoonSaved).toBeLessThanOrEqual(1)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(5_000)
  })

  it('only with a crunch ahead, and only before noon', () => {
    expect(rephaseWindow(at('07:00'), TODAY, TZ, { sweep: false })).toBeUndefined()
    expect(rephaseWindow(NOON, TODAY, TZ, CTX)).toBeUndefined()
    expect(rephaseWindow(at('15:00'), TODAY, TZ, CTX)).toBeUndefined()
    // 09:00: a fetch now would cost one more before the sweep for every day whose refresh it moves out of the afternoon.
    expect(rephaseWindow(at('09:00'), TODAY, TZ, CTX)).toBeUndefined()
  })
})

describe('rankRephase and withRephase', () => {
  const cand = (over: Partial<Candidate>): Candidate => ({
    productId: 1,
    date: addDays(TODAY, 3),
    timeZone: TZ,
    nextDueAt: at('09:00'),
    forcedAt: null,
    lastSlotStart: '17:00',
    lastFetchedAt: at('09:00') - PERIOD,
    ...over,
  })
  const now = at('07:00')

  it('keeps open days 2-7 due in the window, earliest due first', () => {
    const ranked = rankRephase(
      [
        cand({ productId: 1, nextDueAt: at('09:00') }),
        cand({ productId: 2, nextDueAt: at('08:10') }),
        cand({ productId: 3, nextDueAt: at('07:30') }), // its afternoon refresh stays in the afternoon
        cand({ productId: 4, nextDueAt: at('09:30') }), // would cost one more request
        cand({ productId: 5, date: addDays(TODAY, 1) }), // day 1: its own window
        cand({ productId: 6, date: addDays(TODAY, 8) }), // day 8: a 24 h period
        cand({ productId: 7, lastSlotStart: null }), // seen empty
        cand({ productId: 8, forcedAt: at('06:00') }), // "run now" ranks it already
      ],
      todayOf,
      rephaseWindows(now, [TZ], todayOf, CTX),
    )
    expect(ranked.map((r) => r.productId)).toEqual([2, 1])
    expect(ranked.every((r) => r.early === true && r.score === REPHASE_SCORE && r.tier.name === 'week')).toBe(true)
  })

  it('rank under every due day of days 1-7 and today, over days 8-30 and beyond', () => {
    const due = rankDue(
      [
        cand({ productId: 10, date: TODAY, nextDueAt: now }),
        cand({ productId: 11, date: addDays(TODAY, 2), nextDueAt: now }), // due just now: lateness 0
        cand({ productId: 12, date: addDays(TODAY, 12), nextDueAt: now - 5 * 24 * HOUR }), // 5 days late
        cand({ productId: 13, date: addDays(TODAY, 40), nextDueAt: now - 9 * 24 * HOUR }),
      ],
      now,
      todayOf,
      CTX,
    )
    const rephase = rankRephase([cand({ productId: 20, nextDueAt: at('09:00') })], todayOf, rephaseWindows(now, [TZ], todayOf, CTX))
    expect(withRephase(due, rephase).map((r) => r.productId)).toEqual([10, 11, 20, 12, 13])
    expect(withRephase(due, [])).toBe(due)
  })
})
