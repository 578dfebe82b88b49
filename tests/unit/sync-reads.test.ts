import { describe, expect, it } from 'vitest'
import { bookable, bookableAccuracy, compareBookable, liveStats, percentile, readFreshness, readTier, type ReadState } from '../../bench/sync-reads.ts'
import { partnerView } from '../../bench/sync-shopper.ts'
import type { SlotView } from '../../server/availability/types.ts'
import { zonedTimeToInstant } from '../../server/calendar/days.ts'
import { createCatalogue } from '../../server/sandbox/catalogue.ts'

const H = 3_600_000
const NOW = Date.UTC(2026, 11, 1, 4, 0) // 12:00 in Singapore

/** A slot as /slots answers it, primary pax first; `at` is its start as an instant. */
function slot(
  id: string,
  o: { at?: number; remaining?: number; primary?: Partial<SlotView['paxAvailability'][number]>; price?: number | null } = {},
): SlotView & { at: number } {
  const price = o.price === undefined ? 100 : o.price
  const p = price === null ? null : { finalPrice: price, originalPrice: price, currencyCode: 'SGD' }
  return {
    at: o.at ?? NOW + H,
    startTime: '13:00',
    startDate: '2026-12-01',
    endTime: '13:00',
    providerSlotId: id,
    price: p,
    remaining: o.remaining ?? 10,
    paxAvailability:
      p === null
        ? []
        : [
            { type: 'ADULT_12~99', name: 'Adult', description: '', price: p, min: 1, max: 10, remaining: 10, isPrimary: true, ...o.primary },
            { type: 'CHILD_3~11', name: 'Child', description: '', price: { ...p, finalPrice: 1 }, min: 0, max: 10, remaining: 10, isPrimary: false },
          ],
  }
}
const startOf = (s: SlotView) => (s as SlotView & { at: number }).at

describe('bookable for a party of 2, in the public API terms', () => {
  it('needs a slot not started, with a price, 2 seats, and 2 of its primary pax type within min/max', () => {
    expect(bookable(slot('a'), NOW + H, NOW)).toBe(true)
    expect(bookable(slot('a'), NOW, NOW)).toBe(false) // starts now: the partner no longer sells it
    expect(bookable(slot('a', { remaining: 1 }), NOW + H, NOW)).toBe(false)
    expect(bookable(slot('a', { remaining: 2 }), NOW + H, NOW)).toBe(true)
    expect(bookable(slot('a', { primary: { remaining: 1 } }), NOW + H, NOW)).toBe(false)
    expect(bookable(slot('a', { primary: { max: 1 } }), NOW + H, NOW)).toBe(false)
    expect(bookable(slot('a', { primary: { min: 3 } }), NOW + H, NOW)).toBe(false)
    expect(bookable(slot('a', { price: null }), NOW + H, NOW)).toBe(false)
  })
})

describe('bookable accuracy: a read against the partner at that instant', () => {
  it('agrees when bookability and the price of what both sell are equal, whatever else differs', () => {
    // Seat counts differ (the whole-day comparison would fail), bookability does not; a sold-out slot's price does not matter.
    const served = [slot('a', { remaining: 50 }), slot('b', { remaining: 1, price: 90 })]
    const truth = [slot('a', { remaining: 7 }), slot('b', { remaining: 0, price: 95 })]
    expect(compareBookable(served, truth, startOf, NOW)).toEqual({ agree: true, phantom: 0, hidden: 0, wrongPrice: 0 })
  })

  it('a slot shown bookable that the partner has sold out or dropped is a phantom', () => {
    expect(compareBookable([slot('a')], [slot('a', { remaining: 1 })], startOf, NOW)).toMatchObject({ agree: false, phantom: 1 })
    expect(compareBookable([slot('a'), slot('b')], [slot('a')], startOf, NOW)).toMatchObject({ agree: false, phantom: 1, hidden: 0 })
  })

  it('a started slot still stored is not shown bookable: no phantom once the partner drops it', () => {
    expect(compareBookable([slot('a', { at: NOW - H })], [], startOf, NOW)).toMatchObject({ agree: true })
  })

  it('a slot the partner sells that the read lacks or shows full is hidden (a day never fetched hides them all)', () => {
    expect(compareBookable([], [slot('a'), slot('b')], startOf, NOW)).toMatchObject({ agree: false, hidden: 2 })
    expect(compareBookable([slot('a', { remaining: 0 })], [slot('a')], startOf, NOW)).toMatchObject({ agree: false, hidden: 1 })
  })

  it('the same slot bookable at another final price, original price or currency is a wrong price', () => {
    expect(compareBookable([slot('a', { price: 100 })], [slot('a', { price: 101 })], startOf, NOW)).toMatchObject({ agree: false, wrongPrice: 1 })
    const other = slot('a')
    other.price = { ...other.price!, currencyCode: 'EUR' }
    expect(compareBookable([slot('a')], [other], startOf, NOW)).toMatchObject({ agree: false, wrongPrice: 1 })
    const orig = slot('a')
    orig.price = { ...orig.price!, originalPrice: 120 }
    expect(compareBookable([slot('a')], [orig], startOf, NOW)).toMatchObject({ agree: false, wrongPrice: 1 })
  })

  it('accumulates the share of reads that agree and what went wrong', () => {
    const acc = bookableAccuracy()
    acc.add({ agree: true, phantom: 0, hidden: 0, wrongPrice: 0 }, false)
    acc.add({ agree: false, phantom: 2, hidden: 0, wrongPrice: 1 }, false)
    acc.add({ agree: false, phantom: 0, hidden: 3, wrongPrice: 0 }, true)
    acc.add({ agree: true, phantom: 0, hidden: 0, wrongPrice: 0 }, false)
    expect(acc.result()).toEqual({ reads: 4, accuracy: 0.5, withPhantom: 1, withHidden: 1, withWrongPrice: 1, neverFetched: 1 })
  })
})

describe("the partner's view of a day, as /slots would answer it fetched now", () => {
  const TZ = 'Asia/Singapore'
  const cat = createCatalogue({ seed: 1, products: 0, timeZone: TZ })
  const at = (time: string) => zonedTimeToInstant('2026-12-01', time, TZ)
  const startOf = (s: SlotView) => zonedTimeToInstant(s.startDate, s.startTime, TZ)

  it("prices each slot by the public API's rule: product 14's flagged adult, listed first", () => {
    const view = partnerView(cat, 14, '2026-12-01', at('03:00'))
    expect(view.map((s) => s.startTime)).toEqual(['04:00', '04:30', '05:00', '05:30', '06:00', '06:30', '07:00', '07:30', '08:00'])
    for (const s of view) {
      expect(s.paxAvailability[0]!.type).toBe('ADULT_12~99')
      expect(s.price).toEqual(s.paxAvailability[0]!.price)
    }
  })

  it('a day read as fetched before its first slots started agrees with the partner after they started: started slots are nobody’s to book', () => {
    const stale = partnerView(cat, 14, '2026-12-01', at('03:50'))
    const truth = partnerView(cat, 14, '2026-12-01', at('05:10'))
    expect(stale).toHaveLength(9)
    expect(truth).toHaveLength(6)
    expect(compareBookable(stale, truth, startOf, at('05:10'))).toEqual({ agree: true, phantom: 0, hidden: 0, wrongPrice: 0 })
    // The same stale day read at 03:55, before any started, against a partner that has sold nothing out either: still agrees.
    expect(compareBookable(stale, partnerView(cat, 14, '2026-12-01', at('03:55')), startOf, at('03:55')).agree).toBe(true)
    // Product 14's price changes by day: another day's answer for the same slot ids would be a wrong price everywhere.
    const otherDay = partnerView(cat, 14, '2026-12-03', at('03:50')).map((s) => ({ ...s, providerSlotId: s.providerSlotId.replace('12-03', '12-01') }))
    expect(compareBookable(otherDay, stale, startOf, at('03:50'))).toMatchObject({ agree: false, wrongPrice: 9 })
  })
})

describe('read-weighted freshness', () => {
  const state = (s: Partial<ReadState>): ReadState => ({ offset: 3, outcome: 'ok', fetchedAt: NOW - H, lastSlotAt: NOW + H, ...s })

  it('classes a read by its stored day as the uniform sample classes days', () => {
    expect(readTier(state({ offset: 0 }), NOW)).toBe('today')
    expect(readTier(state({ offset: 0, lastSlotAt: NOW - 1 }), NOW)).toBeUndefined() // after its last slot
    expect(readTier(state({ offset: 0, lastSlotAt: null }), NOW)).toBeUndefined()
    expect(readTier(state({ offset: 7 }), NOW)).toBe('week')
    expect(readTier(state({ offset: 8 }), NOW)).toBe('month')
    expect(readTier(state({ offset: 30 }), NOW)).toBe('month')
    expect(readTier(state({ offset: 31 }), NOW)).toBeUndefined()
    expect(readTier(state({ offset: 45, outcome: 'empty' }), NOW)).toBe('closed')
    expect(readTier(state({ outcome: null, fetchedAt: null }), NOW)).toBeUndefined()
    expect(readTier(state({ outcome: 'error' }), NOW)).toBeUndefined()
  })

  it('weights days by their reads: one much-read stale day outweighs many fresh days read once', () => {
    const f = readFreshness()
    // Days 1–7: a popular day 5 h old read 8 times, four days 1 h old read once each.
    for (let i = 0; i < 8; i++) f.add(state({ offset: 1, fetchedAt: NOW - 5 * H }), NOW)
    for (let i = 0; i < 4; i++) f.add(state({ offset: 2 + i, fetchedAt: NOW - H }), NOW)
    // Today: within 15 min exactly at the target, then 1 ms over.
    f.add(state({ offset: 0, fetchedAt: NOW - 15 * 60_000 }), NOW)
    f.add(state({ offset: 0, fetchedAt: NOW - 15 * 60_000 - 1 }), NOW)
    f.add(state({ offset: 40 }), NOW)
    const r = f.result()
    // Per day it would be 4 of 5 fresh; per read it is 4 of 12.
    expect(r.week).toEqual({ reads: 12, within: 4, share: 4 / 12 })
    expect(r.today).toEqual({ reads: 2, within: 1, share: 0.5 })
    expect(r.month).toEqual({ reads: 0, within: 0, share: null })
    expect(r.outside).toBe(1)
  })
})

describe('live checks', () => {
  it('nearest-rank percentiles', () => {
    expect(percentile([], 0.5)).toBeNull()
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3)
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        0.95,
      ),
    ).toBe(95)
    expect(percentile([7], 0.95)).toBe(7)
  })

  it('fresh is a share of all checks (an unanswered one counts against it), latency over answered ones', () => {
    const s = liveStats({ perHour: 60, maxAgeS: 300 })
    for (let i = 0; i < 4; i++) s.started()
    s.answered(1000, { fresh: true })
    s.answered(3000, { fresh: true, state: 'fresh' })
    s.answered(0, { fresh: false, state: 'refused' })
    expect(s.result()).toEqual({
      perHour: 60,
      maxAgeS: 300,
      checks: 4,
      answered: 3,
      fresh: 0.5,
      p50Ms: 1000,
      p95Ms: 3000,
      maxMs: 3000,
      states: { fresh: 2, refused: 1 },
    })
  })
})
