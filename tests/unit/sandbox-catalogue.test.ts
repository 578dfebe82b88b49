import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { addDays, dayRange, weekday, zonedTimeToInstant } from '../../server/calendar/days.ts'
import { validateDay, type PartnerSlotInput } from '../../server/partner/schema.ts'
import { BOOKING_STEP_MS, CATALOGUE_HORIZON_DAYS, type CatalogueShape, createCatalogue, FIRST_GENERATED_ID } from '../../server/sandbox/catalogue.ts'
import { SPREAD_ZONES } from '../../server/sandbox/shapes.ts'

const TZ = 'Asia/Singapore'
const TODAY = '2026-12-01' // a Tuesday
const NOW = zonedTimeToInstant(TODAY, '10:00', TZ)
const HOUR = 3_600_000
const cat = createCatalogue({ seed: 1, products: 50, timeZone: TZ })
const horizon = dayRange(TODAY, CATALOGUE_HORIZON_DAYS)
/** Far enough ahead that no booking window (at most 21 days) has opened. */
const farDays = horizon.filter((_, i) => i >= 22)

const everyDay = (productId: number, now = NOW) => horizon.map((date) => ({ date, slots: cat.inventory(productId, date, now) }))
const generated = cat.productIds().filter((id) => id >= FIRST_GENERATED_ID)

describe('sandbox catalogue', () => {
  it('holds 14, 15 and the generated products, deterministically from the seed', () => {
    expect(cat.productIds()).toEqual([14, 15, ...Array.from({ length: 50 }, (_, i) => FIRST_GENERATED_ID + i)])
    expect(cat.has(14) && cat.has(1049)).toBe(true)
    expect(cat.has(1050) || cat.has(16)).toBe(false)
    expect(cat.timeZone(1003)).toBe(TZ)
    const again = createCatalogue({ seed: 1, products: 50, timeZone: TZ })
    const other = createCatalogue({ seed: 2, products: 50, timeZone: TZ })
    const snapshot = (c: typeof cat) => generated.map((id) => horizon.map((d) => c.inventory(id, d, NOW)))
    expect(snapshot(again)).toEqual(snapshot(cat))
    expect(snapshot(other)).not.toEqual(snapshot(cat))
  })

  it('every day of every product passes the contract validation, now and weeks later', () => {
    for (const now of [NOW, NOW + 17 * 24 * HOUR + 5 * HOUR]) {
      for (const id of cat.productIds()) {
        for (const date of dayRange(addDays(TODAY, -1), CATALOGUE_HORIZON_DAYS + 20)) {
          const body = JSON.parse(JSON.stringify(cat.inventory(id, date, now)))
          const v = validateDay(body, date)
          expect(v.ok ? 'ok' : `${id} ${date}: ${v.reason}`).toBe('ok')
        }
      }
    }
  })

  it('product 14: Tue/Thu/Sun, nine slots 04:00–08:00, remaining 2000, an adult always and a child some days', () => {
    const days = everyDay(14).filter((d) => farDays.includes(d.date))
    for (const { date, slots } of days) {
      if (![0, 2, 4].includes(weekday(date))) {
        expect(slots).toEqual([])
        continue
      }
      expect(slots.map((s) => s.startTime)).toEqual(['04:00', '04:30', '05:00', '05:30', '06:00', '06:30', '07:00', '07:30', '08:00'])
      for (const s of slots) {
        expect(s).toMatchObject({
          startDate: date,
          endTime: s.startTime,
          providerSlotId: `P14_${date}T${s.startTime}`,
          remaining: 2000,
          currencyCode: 'SGD',
          variantId: 14,
        })
        expect(s.paxAvailability[0]).toMatchObject({ type: 'ADULT_12~99', isPrimary: true, min: 1, max: 1000, remaining: 1000 })
        expect(s.paxAvailability.slice(1).every((p) => p.type === 'CHILD_3~11' && p.isPrimary === undefined)).toBe(true)
      }
    }
    const open = days.filter((d) => d.slots.length)
    const withChild = open.filter((d) => d.slots[0]!.paxAvailability.length === 2)
    expect(withChild.length).toBeGreaterThan(0)
    expect(withChild.length).toBeLessThan(open.length)
    expect(new Set(open.map((d) => d.slots[0]!.paxAvailability[0]!.price.finalPrice)).size).toBeGreaterThan(3)
  })

  it('product 15: Sundays only, one slot at 00:00 with 170 left, adult 441 or 341, child 10, infant 10 at price 0', () => {
    const days = everyDay(15).filter((d) => farDays.includes(d.date))
    const prices = new Set<number>()
    for (const { date, slots } of days) {
      if (weekday(date) !== 0) {
        expect(slots).toEqual([])
        continue
      }
      expect(slots).toHaveLength(1)
      const s = slots[0]!
      expect(s).toMatchObject({ startTime: '00:00', remaining: 170, providerSlotId: `P15_${date}T00:00` })
      const [adult, child, infant] = s.paxAvailability
      expect(adult).toMatchObject({ isPrimary: true, remaining: 150 })
      expect(child).toMatchObject({ type: 'CHILD_5~15', remaining: 10 })
      expect(infant).toMatchObject({ type: 'INFANT_0~4', remaining: 10, price: { finalPrice: 0, originalPrice: 0, discount: 0 } })
      prices.add(adult!.price.finalPrice)
    }
    expect([...prices].sort()).toEqual([341, 441])
  })

  it('answers [] for past days, days beyond the horizon, unknown products and impossible dates', () => {
    const open14 = horizon.find((d) => weekday(d) === 0)!
    expect(cat.inventory(14, open14, NOW).length).toBe(9)
    expect(cat.inventory(14, addDays(TODAY, -5), NOW)).toEqual([]) // a Thursday, but past
    const beyond = dayRange(addDays(TODAY, CATALOGUE_HORIZON_DAYS), 7)
    expect(beyond.every((d) => cat.inventory(14, d, NOW).length === 0)).toBe(true)
    const lastOpen = horizon.filter((d) => [0, 2, 4].includes(weekday(d))).at(-1)!
    expect(cat.inventory(14, lastOpen, NOW)).toHaveLength(9)
    expect(cat.inventory(999, open14, NOW)).toEqual([])
    expect(cat.inventory(14, '2026-02-30', NOW)).toEqual([])
  })

  it("drops today's slots once they have started", () => {
    const sunday = '2026-12-06'
    expect(cat.inventory(14, sunday, zonedTimeToInstant(sunday, '03:00', TZ))).toHaveLength(9)
    expect(cat.inventory(14, sunday, zonedTimeToInstant(sunday, '06:10', TZ)).map((s) => s.startTime)).toEqual(['06:30', '07:00', '07:30', '08:00'])
    expect(cat.inventory(14, sunday, zonedTimeToInstant(sunday, '08:00', TZ))).toEqual([])
  })

  it('generated products vary: weekdays, closed periods, 1–12 slots, evening slots, sold-out slots and days', () => {
    const days = generated.flatMap((id) => everyDay(id).map((d) => ({ id, ...d })))
    const slotCounts = new Set(days.map((d) => d.slots.length))
    expect(Math.min(...[...slotCounts].filter((n) => n > 0))).toBe(1)
    expect(Math.max(...slotCounts)).toBe(12)
    expect(days.some((d) => d.slots.some((s) => s.startTime >= '18:00'))).toBe(true)
    expect(days.some((d) => d.slots.some((s) => s.endTime !== s.startTime))).toBe(true)
    expect(days.some((d) => d.slots.some((s) => s.remaining === 0 && s.paxAvailability.every((p) => p.remaining === 0)))).toBe(true)
    expect(days.some((d) => d.slots.length > 1 && d.slots.every((s) => s.remaining === 0))).toBe(true)
    expect(days.some((d) => d.slots.some((s) => s.paxAvailability.some((p) => p.price.finalPrice === 0)))).toBe(true)
    const openWeekdays = generated.map(
      (id) =>
        new Set(
          everyDay(id)
            .filter((d) => d.slots.length)
            .map((d) => weekday(d.date)),
        ).size,
    )
    expect(new Set(openWeekdays).size).toBeGreaterThan(3)
    // A closed period: an open weekday with no slots on some far day (no booking or withdrawal can empty it there).
    const closedPeriod = generated.some((id) => {
      const far = everyDay(id).filter((d) => farDays.includes(d.date))
      const open = new Set(far.filter((d) => d.slots.length).map((d) => weekday(d.date)))
      return far.some((d) => open.has(weekday(d.date)) && d.slots.length === 0)
    })
    expect(closedPeriod).toBe(true)
    // Prices change between days for one slot.
    const id = generated.find((g) => everyDay(g).filter((d) => d.slots.length).length > 10)!
    const firstSlotPrices = everyDay(id).flatMap((d) => d.slots.slice(0, 1).map((s) => s.paxAvailability[0]!.price.finalPrice))
    expect(new Set(firstSlotPrices).size).toBeGreaterThan(5)
  })

  it('bookings lower remaining as the clock advances, step by step and never back up', () => {
    const date = addDays(TODAY, 5)
    const times = Array.from({ length: 5 * 24 }, (_, h) => NOW + h * HOUR)
    let moved = 0
    for (const id of [14, ...generated]) {
      let prev: Map<string, number> | undefined
      for (const t of times) {
        const now = new Map(cat.inventory(id, date, t).map((s) => [s.providerSlotId, s.remaining]))
        for (const [slot, remaining] of now) {
          const before = prev?.get(slot)
          if (before === undefined) continue
          expect(remaining).toBeLessThanOrEqual(before)
          if (remaining < before) moved++
        }
        prev = now
      }
    }
    expect(moved).toBeGreaterThan(50)
    // Within one booking step, two fetches agree.
    const step = Math.floor(NOW / BOOKING_STEP_MS) * BOOKING_STEP_MS
    expect(cat.inventory(1001, date, step + 1)).toEqual(cat.inventory(1001, date, step + BOOKING_STEP_MS - 1))
  })

  it('slots and pax types disappear over time', () => {
    const ids = (slots: PartnerSlotInput[]) => slots.map((s) => s.providerSlotId)
    const paxKeys = (slots: PartnerSlotInput[]) => slots.flatMap((s) => s.paxAvailability.map((p) => `${s.providerSlotId}/${p.type}`))
    let slotsGone = 0
    let paxGone = 0
    for (const id of generated) {
      for (const date of horizon.slice(3, 25)) {
        const early = cat.inventory(id, date, NOW)
        const late = cat.inventory(id, date, NOW + 2 * 24 * HOUR)
        slotsGone += ids(early).filter((s) => !ids(late).includes(s)).length
        paxGone += paxKeys(early).filter((k) => ids(late).includes(k.split('/')[0]!) && !paxKeys(late).includes(k)).length
        // Nothing appears out of nowhere.
        expect(ids(late).filter((s) => !ids(early).includes(s))).toEqual([])
      }
    }
    expect(slotsGone).toBeGreaterThan(0)
    expect(paxGone).toBeGreaterThan(0)
  })
})

/** A digest of what a shape answers for 40 products, every third day, at two instants. */
function fingerprint(shape: CatalogueShape): string {
  const c = createCatalogue({ seed: 1, products: 40, timeZone: TZ, shape })
  const h = createHash('sha256')
  for (const now of [NOW, zonedTimeToInstant('2026-12-20', '21:37', TZ)]) {
    for (const id of c.productIds()) for (let i = 0; i < CATALOGUE_HORIZON_DAYS; i += 3) h.update(JSON.stringify(c.inventory(id, addDays(TODAY, i), now)))
  }
  return h.digest('hex').slice(0, 16)
}

describe('sandbox catalogue shapes beyond the sample', () => {
  it('sample and dense answer exactly as before the zones and seasonal shapes were added (digests taken before)', () => {
    expect(fingerprint('sample')).toBe('3c8d696770d9b247')
    expect(fingerprint('dense')).toBe('e4dee81fa61b97bf')
  })

  const zones = createCatalogue({ seed: 1, products: 48, timeZone: TZ, shape: 'zones' })
  const dense = createCatalogue({ seed: 1, products: 48, timeZone: TZ, shape: 'dense' })
  const zoned = zones.productIds().filter((id) => id >= FIRST_GENERATED_ID)

  it('zones: the generated products spread evenly over four zones far apart; 14 and 15 stay in the given zone', () => {
    const perZone = new Map<string, number>()
    for (const id of zoned) perZone.set(zones.timeZone(id), (perZone.get(zones.timeZone(id)) ?? 0) + 1)
    expect([...perZone.keys()].sort()).toEqual([...SPREAD_ZONES].sort())
    expect([...perZone.values()]).toEqual([12, 12, 12, 12])
    expect(zones.timeZone(14)).toBe(TZ)
    // Their midnights fall at least 5 h apart in UTC.
    const midnights = SPREAD_ZONES.map(
      (z) => (zonedTimeToInstant(TODAY, '00:00', z) - zonedTimeToInstant(TODAY, '00:00', 'UTC') + 48 * HOUR) % (24 * HOUR),
    ).sort((a, b) => a - b)
    const gaps = midnights.map((m, i) => (i ? m - midnights[i - 1]! : m + 24 * HOUR - midnights.at(-1)!))
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(5 * HOUR)
  })

  it('zones: the dense opening pattern, each product on its own local calendar and clock', () => {
    // Before any booking window opens (21 days), a zoned product answers exactly as the same dense
    // product (the horizon's last day, a day beyond New York's, left out).
    for (const id of zoned) for (const date of farDays.slice(0, -1)) expect(zones.inventory(id, date, NOW)).toEqual(dense.inventory(id, date, NOW))
    // 20:00 in Singapore is 01:00 the next day in Auckland: Auckland's 1 December is past, Singapore's is today.
    const at = zonedTimeToInstant(TODAY, '20:00', TZ)
    const auckland = zoned.filter((id) => zones.timeZone(id) === 'Pacific/Auckland')
    expect(auckland.every((id) => zones.inventory(id, TODAY, at).length === 0)).toBe(true)
    expect(auckland.some((id) => zones.inventory(id, addDays(TODAY, 1), at).length > 0)).toBe(true)
    // A slot leaves sale at its start in its product's zone.
    const ny = zoned.find((id) => zones.timeZone(id) === 'America/New_York' && zones.inventory(id, addDays(TODAY, 2), NOW).length)!
    const first = zones.inventory(ny, addDays(TODAY, 2), NOW)[0]!
    const starts = zonedTimeToInstant(first.startDate, first.startTime, 'America/New_York')
    expect(zones.inventory(ny, first.startDate, starts - 1)[0]!.startTime).toBe(first.startTime)
    expect(zones.inventory(ny, first.startDate, starts).map((s) => s.startTime)).not.toContain(first.startTime)
  })

  const seasonal = createCatalogue({ seed: 1, products: 50, timeZone: TZ, shape: 'seasonal' })
  const seasonalIds = seasonal.productIds().filter((id) => id >= FIRST_GENERATED_ID)

  it('seasonal: days of 30–200 slots that pass the contract validation', () => {
    const most: number[] = []
    for (const id of seasonalIds) {
      const days = horizon.map((date) => seasonal.inventory(id, date, NOW))
      // Every third day validated: a day of 200 slots takes a while to check.
      for (const [i, slots] of days.entries()) if (i % 3 === 0) expect(validateDay(JSON.parse(JSON.stringify(slots)), horizon[i]!).ok).toBe(true)
      most.push(Math.max(...days.map((d) => d.length)))
    }
    expect(Math.max(...most)).toBeLessThanOrEqual(200)
    expect(Math.min(...most.filter((n) => n > 0))).toBeGreaterThanOrEqual(25)
    expect(most.reduce((a, b) => a + b, 0) / most.length).toBeGreaterThan(60)
  })

  it('seasonal: whole seasons closed within the horizon, open again later', () => {
    let reopening = 0
    for (const id of seasonalIds) {
      const open = horizon.map((date) => seasonal.inventory(id, date, NOW).length > 0)
      // A closed run of at least two weeks followed by an open day.
      for (let i = 14; i < open.length; i++) {
        if (open[i] && open.slice(i - 14, i).every((o) => !o)) {
          reopening++
          break
        }
      }
    }
    expect(reopening).toBeGreaterThanOrEqual(5)
  })

  it('seasonal: slots sell out as their start comes near', () => {
    let listed = 0
    let soldOut = 0
    for (const id of seasonalIds) {
      for (const s of seasonal.inventory(id, TODAY, NOW)) {
        const starts = zonedTimeToInstant(s.startDate, s.startTime, TZ)
        if (starts - NOW > HOUR) continue
        listed++
        if (s.remaining === 0) soldOut++
      }
    }
    expect(listed).toBeGreaterThan(50)
    expect(soldOut / listed).toBeGreaterThan(0.3)
    // Tomorrow's seats go through the day.
    const seats = (at: number) => seasonalIds.reduce((n, id) => n + seasonal.inventory(id, addDays(TODAY, 1), at).reduce((m, s) => m + s.remaining, 0), 0)
    expect(seats(NOW + 12 * HOUR)).toBeLessThan(seats(NOW))
  })
})
